/**
 * GB/T 32960 terminal identity per VIN in PostgreSQL (the SQLite twin,
 * ./sqlite.ts, says why; the contract: ./types.ts). The row is locked for the check, so two instances
 * taking logins of one VIN at once judge them one after the other.
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import type { Gbt32960TerminalRow, Gbt32960TerminalStore } from './types.js';
import { judgeLogin, TERMINAL_COLUMNS } from './rows.js';

export const GBT32960_TERMINAL_MIGRATIONS: PgMigration[] = [
  {
    id: '0080-gbt32960-terminals',
    sql: `
  CREATE TABLE gbt32960_terminals (
    vin           TEXT PRIMARY KEY,
    iccid         TEXT NOT NULL,
    login_day     TEXT NOT NULL,
    login_serial  INTEGER NOT NULL,
    login_at      BIGINT NOT NULL
  );`,
  },
  {
    // The pin can be cleared after a SIM swap (clearGbt32960IccidPin): iccid NULL until the next login.
    id: '0110-gbt32960-iccid-clearable',
    sql: `ALTER TABLE gbt32960_terminals ALTER COLUMN iccid DROP NOT NULL;`,
  },
];

export function pgGbt32960Terminals(db: Db): Gbt32960TerminalStore {
  return {
    checkGbt32960Login: (l) =>
      db.tx(async (t) => {
        // The first login pins; a concurrent first login waits on the insert and is judged after it.
        const first = await t.query(
          `INSERT INTO gbt32960_terminals (vin, iccid, login_day, login_serial, login_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (vin) DO NOTHING RETURNING vin`,
          [l.vin, l.iccid, l.day, l.serial, l.at],
        );
        if (first.length > 0) return 'ok';
        const [row] = await t.query<Gbt32960TerminalRow>(
          `SELECT ${TERMINAL_COLUMNS} FROM gbt32960_terminals WHERE vin = $1 FOR UPDATE`,
          [l.vin],
        );
        const { verdict, write } = judgeLogin(row, l);
        if (write)
          await t.query(
            `UPDATE gbt32960_terminals SET iccid = $2, login_day = $3, login_serial = $4, login_at = $5 WHERE vin = $1`,
            [l.vin, write.iccid, write.day, write.serial, l.at],
          );
        return verdict;
      }),
    clearGbt32960IccidPin: async (vin) =>
      (
        await db.query(
          `UPDATE gbt32960_terminals SET iccid = NULL WHERE vin = $1 AND iccid IS NOT NULL RETURNING vin`,
          [vin],
        )
      ).length > 0,
  };
}
