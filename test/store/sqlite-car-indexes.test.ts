/**
 * What an ingested record costs the SQLite writer in indexes keyed by car: each such index over
 * every row dirties about one page per car per commit (docs/benchmarks.md, "What limits
 * Shekara"). Route points carry none: erasure finds them through their records, and only the
 * points kept past their record are indexed by VIN. Every statement that finds a vehicle's route
 * points still uses an index (EXPLAIN QUERY PLAN), and a store written before keeps its points
 * erasable. The behaviour on both backends: test/store/conformance-owner.test.ts (erasure).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, SQLITE_MIGRATIONS } from '../../src/store/sqlite/index.js';
import { migrate } from '../../src/store/sqlite/migrate.js';
import { ERASE_ROUTE_POINTS } from '../../src/store/erasure/sqlite.js';
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
  it('route points have no index over every point keyed by VIN', async () => {
    const file = newFile();
    await (await openSqliteStore(file)).close();
    const db = new Database(file, { readonly: true });
    try {
      expect(carIndexes(db, 'route_points')).toEqual([]);
      // Records keep theirs: erasure, revocation and the owner's pseudonyms read it.
      expect(carIndexes(db, 'records')).toEqual(['records_vin_time']);
    } finally {
      db.close();
    }
  });

  it("erasure finds a vehicle's route points through indexes only", async () => {
    const file = newFile();
    await (await openSqliteStore(file)).close();
    const db = new Database(file, { readonly: true });
    try {
      const ofRecords = plan(db, ERASE_ROUTE_POINTS.ofRecords);
      expect(ofRecords.filter((d) => d.startsWith('SCAN'))).toEqual([]);
      expect(ofRecords.join('\n')).toMatch(
        /SEARCH route_points USING (COVERING )?INDEX sqlite_autoindex_route_points_1 \(record_id=\?\)/,
      );
      expect(ofRecords.join('\n')).toMatch(/SEARCH records USING (COVERING )?INDEX records_vin_time \(vin=\?\)/);
      expect(plan(db, ERASE_ROUTE_POINTS.pastRecord)).toEqual([
        'SEARCH route_points USING INDEX route_points_past_record_vin (vin=?)',
      ]);
    } finally {
      db.close();
    }
  });

  it('a store written before keeps the points whose record is gone erasable by VIN', async () => {
    const file = newFile();
    // An earlier build: every migration before 0150; retention then deleted a record and kept its point.
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    migrate(
      db,
      SQLITE_MIGRATIONS.filter((m) => m.id < '0150'),
    );
    db.exec(`INSERT INTO route_points (record_id, vin, observed_at, received_at, latitude, longitude, speed) VALUES
      ('gone-1', '${VIN1}', ${T0}, ${T0}, 43.2, 76.9, NULL), ('gone-2', '${VIN2}', ${T0}, ${T0}, 43.3, 76.9, NULL)`);
    db.close();

    const store = await openSqliteStore(file);
    try {
      const kept = record({ vin: VIN1, lat: 44 });
      await store.commitIngest([item(kept)]);
      expect(await store.eraseVehicle(VIN1)).toEqual({ records: 1, routePoints: 2, accountData: 0, quarantine: 0 });
      expect(await store.eraseVehicle(VIN2)).toEqual({ records: 0, routePoints: 1, accountData: 0, quarantine: 0 });
    } finally {
      await store.close();
    }
  });
});
