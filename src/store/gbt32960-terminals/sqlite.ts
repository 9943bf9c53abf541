/**
 * GB/T 32960 terminal identity per VIN: the pinned ICCID and the last accepted login serial
 * number (./types.ts says why and the rule). The ICCID names the car's SIM card:
 * erasure deletes the row with the vehicle's other data.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import type { Gbt32960TerminalRow, Gbt32960TerminalStore } from './types.js';
import { judgeLogin, TERMINAL_COLUMNS } from './rows.js';

export const GBT32960_TERMINAL_MIGRATIONS: Migration[] = [
  {
    id: '0080-gbt32960-terminals',
    sql: `
  CREATE TABLE gbt32960_terminals (
    vin           TEXT PRIMARY KEY,
    iccid         TEXT NOT NULL,
    login_day     TEXT NOT NULL,
    login_serial  INTEGER NOT NULL,
    login_at      INTEGER NOT NULL
  ) STRICT;`,
  },
  {
    // The pin can be cleared after a SIM swap (clearGbt32960IccidPin): iccid NULL until the next login.
    id: '0110-gbt32960-iccid-clearable',
    sql: `
  CREATE TABLE gbt32960_terminals_v2 (
    vin           TEXT PRIMARY KEY,
    iccid         TEXT,
    login_day     TEXT NOT NULL,
    login_serial  INTEGER NOT NULL,
    login_at      INTEGER NOT NULL
  ) STRICT;
  INSERT INTO gbt32960_terminals_v2 (vin, iccid, login_day, login_serial, login_at)
    SELECT vin, iccid, login_day, login_serial, login_at FROM gbt32960_terminals;
  DROP TABLE gbt32960_terminals;
  ALTER TABLE gbt32960_terminals_v2 RENAME TO gbt32960_terminals;`,
  },
];

export function sqliteGbt32960Terminals(
  db: Database.Database,
): Sync<Gbt32960TerminalStore> & { eraseGbt32960Terminal(vin: string): void } {
  const get = db.prepare(`SELECT ${TERMINAL_COLUMNS} FROM gbt32960_terminals WHERE vin = ?`);
  const put = db.prepare(
    `INSERT OR REPLACE INTO gbt32960_terminals (vin, iccid, login_day, login_serial, login_at)
     VALUES (@vin, @iccid, @day, @serial, @at)`,
  );
  const forget = db.prepare(`DELETE FROM gbt32960_terminals WHERE vin = ?`);
  const unpin = db.prepare(`UPDATE gbt32960_terminals SET iccid = NULL WHERE vin = ? AND iccid IS NOT NULL`);
  const check = db.transaction((l: Parameters<Gbt32960TerminalStore['checkGbt32960Login']>[0]) => {
    const { verdict, write } = judgeLogin(get.get(l.vin) as Gbt32960TerminalRow | undefined, l);
    if (write) put.run({ vin: l.vin, at: l.at, ...write });
    return verdict;
  });
  return {
    checkGbt32960Login: (l) => check(l),
    clearGbt32960IccidPin: (vin) => unpin.run(vin).changes > 0,
    eraseGbt32960Terminal: (vin) => void forget.run(vin),
  };
}
