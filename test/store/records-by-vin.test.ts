/**
 * A vehicle's records on SQLite are found through records_vin, indexed VIN_INDEX_EVERY records at
 * a time (migration 0170), plus the tail of records not indexed yet: no index over every record
 * is keyed by VIN (one random page per car per commit on the one writer). Erasure, revocation
 * and the owner's pseudonyms still find every record: across a SIGKILL between the commit of a
 * record and the indexing of its VIN (a real process on a real file), and after the newest
 * records were deleted (SQLite then hands their rowids out again). Query plans:
 * sqlite-car-indexes.test.ts; the behaviour on both backends: conformance-owner.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, SQLITE_MIGRATIONS } from '../../src/store/sqlite/index.js';
import { migrate } from '../../src/store/sqlite/migrate.js';
import { VIN_INDEX_EVERY } from '../../src/store/records/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { T0, VIN1, VIN2, item, record } from './backends.js';

const dirs: string[] = [];
const stores: Store[] = [];
const newFile = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-records-by-vin-'));
  dirs.push(dir);
  return path.join(dir, 'shekara.db');
};
const open = (file: string) => {
  const s = openSqliteStore(file);
  stores.push(s);
  return s;
};
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const count = (file: string, sql: string, ...args: unknown[]): number => {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(sql)
      .pluck()
      .get(...args) as number;
  } finally {
    db.close();
  }
};

/** Commits `n` records of `vin` in commits of 1,000. */
async function commit(store: Store, vin: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1_000)
    await store.commitIngest(Array.from({ length: Math.min(1_000, n - i) }, () => item(record({ vin, lat: 43.2 }))));
}

describe('SQLite: records found by VIN through a side index written in batches', () => {
  it('records have no index over every row keyed by VIN', async () => {
    const file = newFile();
    await open(file).close();
    stores.length = 0;
    const db = new Database(file, { readonly: true });
    try {
      const byVin = (db.pragma('index_list(records)') as { name: string; partial: number }[]).filter(
        (ix) => (db.pragma(`index_info(${ix.name})`) as { name: string }[])[0]?.name === 'vin',
      );
      expect(byVin.map((ix) => ix.name)).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('a SIGKILL between the commit of records and the indexing of their VINs loses none of them to a lookup', async () => {
    const file = newFile();
    // Commits of 500: the one that passes VIN_INDEX_EVERY indexes all before it, the next ones stay in the tail.
    const total = VIN_INDEX_EVERY + 1_000;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/store/records-by-vin-process.ts', file, String(total)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve();
      });
      child.on('exit', () => reject(new Error(`writer exited before committing: ${out}`)));
    });
    expect(out).toBe('committed 2\n');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // The kill came between: every record is committed, the newest are not indexed yet.
    expect(count(file, `SELECT COUNT(*) FROM records`)).toBe(total);
    const indexed = count(file, `SELECT COUNT(*) FROM records_vin`);
    expect(indexed).toBeGreaterThan(0);
    expect(indexed).toBeLessThan(total);

    const store = open(file);
    // The owner's pseudonyms: the tail's delivered projections too.
    expect(await store.pseudonymsOfVin(VIN1)).toEqual(['tail-001']);
    // Revocation blocks every pending row of the vehicle, indexed or in the tail.
    const actor = { source: 'owner-app', apiKey: 'k1', owner: 'o1' };
    const revoked = await store.revokeConsentLogged({
      vin: VIN1,
      oem: 'acme',
      purpose: 'speed',
      atMs: T0,
      pseudonym: 'p-001',
      actor,
    });
    expect(revoked.blockedPending).toBe(total / 2 - 1);
    // Erasure deletes every record of the vehicle, its route points and account data, and its entries.
    expect(await store.eraseVehicle(VIN1)).toEqual({
      records: total / 2,
      routePoints: total / 2,
      accountData: total / 2,
      quarantine: 0,
    });
    expect(count(file, `SELECT COUNT(*) FROM records WHERE vin = ?`, VIN1)).toBe(0);
    expect(count(file, `SELECT COUNT(*) FROM records_vin WHERE vin = ?`, VIN1)).toBe(0);
    expect(count(file, `SELECT COUNT(*) FROM records WHERE vin = ?`, VIN2)).toBe(total / 2);
    expect(await store.eraseVehicle(VIN2)).toMatchObject({ records: total / 2 });
  });

  it('records committed after the newest indexed ones were deleted are still found', async () => {
    const file = newFile();
    const store = open(file);
    await commit(store, VIN1, VIN_INDEX_EVERY);
    expect(count(file, `SELECT COUNT(*) FROM records_vin`)).toBe(VIN_INDEX_EVERY);
    expect(await store.eraseVehicle(VIN1)).toMatchObject({ records: VIN_INDEX_EVERY });
    // The table is empty: SQLite numbers the next rows from 1 again, below the last rowid indexed.
    await commit(store, VIN2, 3);
    expect(await store.eraseVehicle(VIN2)).toEqual({ records: 3, routePoints: 3, accountData: 0, quarantine: 0 });
  });

  it('a store written before has every record indexed by the migration', async () => {
    const file = newFile();
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    migrate(
      db,
      SQLITE_MIGRATIONS.filter((m) => m.id < '0170'),
    );
    const insert =
      db.prepare(`INSERT INTO records (id, vin, oem, channel, received_at, observed_at, signals, unknown_keys, raw)
      VALUES (?, ?, 'acme', 'mqtt', ${T0}, ${T0}, '{}', '[]', x'00')`);
    for (const [id, vin] of [
      ['old-1', VIN1],
      ['old-2', VIN2],
      ['old-3', VIN1],
    ] as const)
      insert.run(id, vin);
    db.close();

    const store = open(file);
    expect(count(file, `SELECT COUNT(*) FROM records_vin`)).toBe(3);
    expect(count(file, `SELECT through FROM records_vin_mark`)).toBe(3);
    await commit(store, VIN1, 2);
    expect(await store.eraseVehicle(VIN1)).toMatchObject({ records: 4 });
    expect(await store.eraseVehicle(VIN2)).toMatchObject({ records: 1 });
  });
});
