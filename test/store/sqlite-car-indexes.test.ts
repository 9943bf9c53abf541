/**
 * What an ingested record costs the SQLite writer in indexes keyed by car: each such index over
 * every row dirties about one page per car per commit (docs/benchmarks.md, "What limits
 * Shekara"). Route points and account data carry none: erasure finds them through their
 * records, and only the rows kept past their record are indexed by VIN. Every statement that
 * finds a vehicle's rows of them still uses an index (EXPLAIN QUERY PLAN), and a store written
 * before keeps them erasable. The behaviour on both backends: test/store/conformance-owner.test.ts (erasure).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, SQLITE_MIGRATIONS } from '../../src/store/sqlite/index.js';
import { migrate } from '../../src/store/sqlite/migrate.js';
import { eraseChildStatements } from '../../src/store/erasure/sqlite.js';
import { T0, VIN1, VIN2, item, record } from './backends.js';

const dirs: string[] = [];
const newFile = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-car-indexes-'));
  dirs.push(dir);
  return path.join(dir, 'shekara.db');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The indexes over every row of `table` (not partial) whose first column is `vin`. */
const carIndexes = (db: Database.Database, table: string): string[] =>
  (db.pragma(`index_list(${table})`) as { name: string; partial: number }[])
    .filter((ix) => ix.partial === 0)
    .filter((ix) => (db.pragma(`index_info(${ix.name})`) as { seqno: number; name: string }[])[0]?.name === 'vin')
    .map((ix) => ix.name);

const plan = (db: Database.Database, sql: string): string[] =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('LSHKZ000000000001') as { detail: string }[]).map((r) => r.detail);

describe('SQLite: indexes keyed by car', () => {
  it('route points, account data and records have no index over every row keyed by VIN', async () => {
    const file = newFile();
    await (await openSqliteStore(file)).close();
    const db = new Database(file, { readonly: true });
    try {
      expect(carIndexes(db, 'route_points')).toEqual([]);
      expect(carIndexes(db, 'account_data')).toEqual([]);
      // Nor do records: erasure, revocation and the owner's pseudonyms read records_vin, written in
      // batches, and the tail not yet indexed (records-by-vin.test.ts).
      expect(carIndexes(db, 'records')).toEqual([]);
    } finally {
      db.close();
    }
  });

  it.each(['route_points', 'account_data'] as const)(
    "erasure finds a vehicle's rows of %s through indexes only",
    async (table) => {
      const file = newFile();
      await (await openSqliteStore(file)).close();
      const db = new Database(file, { readonly: true });
      try {
        const st = eraseChildStatements(table);
        const ofRecords = plan(db, st.ofRecords);
        expect(ofRecords.filter((d) => d.startsWith('SCAN'))).toEqual([]);
        expect(ofRecords.join('\n')).toMatch(
          new RegExp(`SEARCH ${table} USING (COVERING )?INDEX sqlite_autoindex_${table}_1 \\(record_id=\\?\\)`),
        );
        expect(ofRecords.join('\n')).toMatch(/SEARCH records_vin USING PRIMARY KEY \(vin=\?\)/);
        expect(ofRecords.join('\n')).toMatch(/SEARCH records USING INTEGER PRIMARY KEY \(rowid>\?\)/);
        expect(plan(db, st.pastRecord)).toEqual([`SEARCH ${table} USING INDEX ${table}_past_record_vin (vin=?)`]);
      } finally {
        db.close();
      }
    },
  );

  it('a store written before keeps route points and account data whose record is gone erasable', async () => {
    const file = newFile();
    // An earlier build: every migration before 0150; retention then deleted records and kept their
    // points and account data.
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    migrate(
      db,
      SQLITE_MIGRATIONS.filter((m) => m.id < '0150'),
    );
    db.exec(`INSERT INTO route_points (record_id, vin, observed_at, received_at, latitude, longitude, speed) VALUES
      ('gone-1', '${VIN1}', ${T0}, ${T0}, 43.2, 76.9, NULL), ('gone-2', '${VIN2}', ${T0}, ${T0}, 43.3, 76.9, NULL)`);
    db.exec(`INSERT INTO account_data (record_id, vin, received_at, data) VALUES
      ('gone-1', '${VIN1}', ${T0}, '{"Account.Owner.Name":"A"}'), ('gone-2', '${VIN2}', ${T0}, '{"Account.Owner.Name":"B"}')`);
    db.close();

    const store = await openSqliteStore(file);
    try {
      const kept = record({ vin: VIN1, lat: 44, account: { 'Account.Owner.Name': 'A' } });
      await store.commitIngest([item(kept)]);
      expect(await store.eraseVehicle(VIN1)).toEqual({ records: 1, routePoints: 2, accountData: 2, quarantine: 0 });
      expect(await store.eraseVehicle(VIN2)).toEqual({ records: 0, routePoints: 1, accountData: 1, quarantine: 0 });
    } finally {
      await store.close();
    }
  });
});
