/**
 * A vehicle's records on SQLite are found through records_vin, indexed VIN_INDEX_EVERY records at
 * a time (migration 0170), plus the tail of records not indexed yet: no index over every record
 * is keyed by VIN (one random page per car per commit on the one writer). Erasure, revocation
 * and the owner's pseudonyms still find every record: across a SIGKILL between the commit of a
 * record and the indexing of its VIN (a real process on a real file), and after the newest
 * records were deleted (SQLite then hands their rowids out again), and after another connection
 * renumbered the rowids and VACUUMed the file, with the store stopped or open (0180). Query plans:
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

/**
 * What another connection may do to the file between the store's transactions: renumber the
 * records' rowids in order, closing the gaps retention left, as SQLite allows VACUUM to (a table
 * without an INTEGER PRIMARY KEY) and as a dump reloaded into a new file does (`sqlite3 FILE
 * .dump | sqlite3 NEW`: checked with sqlite3 3.40.1), then VACUUM. (The SQLite builds in use keep
 * the rowids of a table that has an index, as records has its primary key's: VACUUM alone moves
 * none of them.)
 */
function renumberAndVacuum(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    db.exec(`BEGIN IMMEDIATE;
      CREATE TEMP TABLE renumbered (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
      INSERT INTO renumbered SELECT rowid, row_number() OVER (ORDER BY rowid) FROM records;
      UPDATE records SET rowid = (SELECT new FROM renumbered WHERE old = records.rowid);
      DROP TABLE renumbered;
      COMMIT;
      VACUUM;`);
  } finally {
    db.close();
  }
}

/** The store of records-by-vin-renumber-process.ts in a process of its own, filled; `ask` sends it a command. */
async function renumberProcess(file: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/records-by-vin-renumber-process.ts', file], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  let waiting: ((line: string) => void) | undefined;
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    const nl = out.indexOf('\n');
    if (nl >= 0 && waiting) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      const w = waiting;
      waiting = undefined;
      w(line);
    }
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      waiting = resolve;
      void exited.then(() => reject(new Error(`store process exited: ${out}`)));
    });
  const ready = await next();
  return {
    ready,
    async ask(command: string): Promise<unknown> {
      const answer = next();
      child.stdin!.write(`${command}\n`);
      return JSON.parse(await answer) as unknown;
    },
    async exit(): Promise<number | null> {
      child.stdin!.write('exit\n');
      return exited;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

/** What records-by-vin-renumber-process.ts committed of VIN1: 1,000 records in the tail. */
const TAIL = 1_000;

/** A store file as a build before migration `before` left it, holding `records` (id, VIN) in that order; open. */
function writtenBefore(
  file: string,
  before: string,
  records: readonly (readonly [string, string])[],
): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(
    db,
    SQLITE_MIGRATIONS.filter((m) => m.id < before),
  );
  const insert =
    db.prepare(`INSERT INTO records (id, vin, oem, channel, received_at, observed_at, signals, unknown_keys, raw)
      VALUES (?, ?, 'acme', 'mqtt', ${T0}, ${T0}, '{}', '[]', x'00')`);
  for (const [id, vin] of records) insert.run(id, vin);
  return db;
}

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

  it('erasing the vehicle of the last record indexed moves the mark to the record before it, with no repair', async () => {
    const file = newFile();
    const store = open(file);
    await commit(store, VIN1, VIN_INDEX_EVERY - 1);
    await commit(store, VIN2, 1);
    expect(count(file, `SELECT through FROM records_vin_mark`)).toBe(VIN_INDEX_EVERY);
    expect(await store.eraseVehicle(VIN2)).toMatchObject({ records: 1 });
    expect(count(file, `SELECT through FROM records_vin_mark`)).toBe(VIN_INDEX_EVERY - 1);
    await commit(store, VIN2, 3);
    expect(await store.eraseVehicle(VIN2)).toMatchObject({ records: 3 });
    expect(await store.eraseVehicle(VIN1)).toMatchObject({ records: VIN_INDEX_EVERY - 1 });
    expect(count(file, `SELECT repairs FROM records_vin_mark`)).toBe(0);
  });

  it('a store written before has every record indexed by the migration', async () => {
    const file = newFile();
    writtenBefore(file, '0170', [
      ['old-1', VIN1],
      ['old-2', VIN2],
      ['old-3', VIN1],
    ]).close();

    const store = open(file);
    expect(count(file, `SELECT COUNT(*) FROM records_vin`)).toBe(3);
    expect(count(file, `SELECT through FROM records_vin_mark`)).toBe(3);
    await commit(store, VIN1, 2);
    expect(await store.eraseVehicle(VIN1)).toMatchObject({ records: 4 });
    expect(await store.eraseVehicle(VIN2)).toMatchObject({ records: 1 });
  });

  it('records of the tail renumbered below the mark while the store was stopped are found at the next open', async () => {
    const file = newFile();
    const writer = await renumberProcess(file);
    expect(writer.ready).toBe(`ready ${VIN_INDEX_EVERY / 2}`);
    expect(await writer.exit()).toBe(0);
    renumberAndVacuum(file);
    // The renumbering moved the tail below the last rowid indexed.
    expect(count(file, `SELECT MAX(rowid) FROM records`)).toBeLessThan(
      count(file, `SELECT through FROM records_vin_mark`),
    );

    const store = open(file);
    expect(await store.pseudonymsOfVin(VIN1)).toEqual(['tail-001']);
    const actor = { source: 'owner-app', apiKey: 'k1', owner: 'o1' };
    const revoked = await store.revokeConsentLogged({
      vin: VIN1,
      oem: 'acme',
      purpose: 'speed',
      atMs: T0,
      pseudonym: 'p-001',
      actor,
    });
    expect(revoked.blockedPending).toBe(TAIL - 1);
    expect(await store.eraseVehicle(VIN1)).toEqual({
      records: TAIL,
      routePoints: TAIL,
      accountData: TAIL,
      quarantine: 0,
    });
    expect(count(file, `SELECT COUNT(*) FROM records WHERE vin = ?`, VIN1)).toBe(0);
    // The open indexed every record again, and left a trace of it.
    expect(count(file, `SELECT repairs FROM records_vin_mark`)).toBe(1);
    expect(count(file, `SELECT COUNT(*) FROM records_vin`)).toBe(VIN_INDEX_EVERY / 2);
  });

  it("records of the tail renumbered below the mark between the running store's transactions are found", async () => {
    const file = newFile();
    const writer = await renumberProcess(file);
    try {
      expect(writer.ready).toBe(`ready ${VIN_INDEX_EVERY / 2}`);
      renumberAndVacuum(file);
      expect(count(file, `SELECT MAX(rowid) FROM records`)).toBeLessThan(
        count(file, `SELECT through FROM records_vin_mark`),
      );
      // No commit since: the lookups see the mark no longer holds and read every record.
      expect(await writer.ask('pseudonyms')).toEqual(['tail-001']);
      expect(await writer.ask('revoke')).toBe(TAIL - 1);
      // The next commit indexes every record again.
      await writer.ask('commit');
      expect(count(file, `SELECT repairs FROM records_vin_mark`)).toBe(1);
      expect(count(file, `SELECT COUNT(*) FROM records_of_vin WHERE vin = ?`, VIN1)).toBe(TAIL);
      expect(await writer.ask('erase')).toEqual({ records: TAIL, routePoints: TAIL, accountData: TAIL, quarantine: 0 });
      expect(count(file, `SELECT COUNT(*) FROM records WHERE vin = ?`, VIN1)).toBe(0);
      expect(await writer.exit()).toBe(0);
    } finally {
      writer.kill();
    }
  });

  it('a store renumbered before the mark named its record has every record found after the upgrade', async () => {
    const file = newFile();
    const db = writtenBefore(file, '0180', [
      ['old-1', VIN2],
      ['old-2', VIN2],
      ['old-3', VIN2],
      ['tail-1', VIN1],
      ['tail-2', VIN1],
    ]);
    // The first three indexed, as a batch would; then the oldest deleted, as retention would.
    db.exec(`INSERT INTO records_vin SELECT vin, id FROM records WHERE rowid <= 3;
      UPDATE records_vin_mark SET through = 3;
      DELETE FROM records WHERE id = 'old-1';`);
    db.close();
    renumberAndVacuum(file);
    expect(count(file, `SELECT COUNT(*) FROM records_of_vin WHERE vin = ?`, VIN1)).toBe(1);

    const store = open(file);
    expect(await store.eraseVehicle(VIN1)).toMatchObject({ records: 2 });
    expect(await store.eraseVehicle(VIN2)).toMatchObject({ records: 2 });
  });
});
