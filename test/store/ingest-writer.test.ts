/**
 * SQLite: ingest commits and egress settlements run on a writer thread with its own connection
 * (ingest-writer.ts), while erasure and every other write stay on the store's connection. A
 * gateway has two stores on one file (the ingest thread's and the egress thread's) and ONE
 * writer thread: the egress thread's store commits through the main store's, and a turn of that
 * thread commits the records and the outcomes that reached it together, with one fsync.
 */
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { record, projection, item, sqliteBackend, entry, useBackend, T0 } from './backends.js';
import type { EgressSettlement, OutboxRow, Store } from '../../src/store/types.js';
import { openSqliteStore, writerPortOf } from '../../src/store/sqlite/index.js';
import { ingestWriterThread, writerClient } from '../../src/store/sqlite/ingest-writer.js';
import { writeLock } from '../../src/store/sqlite/write-lock.js';
import { ingestTransaction, openConnection } from '../../src/store/sqlite/ingest-tx.js';
import Database from 'better-sqlite3';
import { walCommits } from '../helpers/wal.js';

describe('SQLite ingest writer thread', () => {
  const backend = sqliteBackend();
  const { fresh, second } = useBackend(backend);
  afterAll(() => backend.cleanup());
  const own: { dir: string; store: Store }[] = [];
  afterAll(async () => {
    for (const { dir, store } of own) {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  /** A file store and its file, whose write lock a test may hold in this thread. */
  const ownFile = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shk-writer-'));
    const file = path.join(dir, 'shekara.db');
    const store = openSqliteStore(file);
    own.push({ dir, store });
    return { file, store };
  };

  it("settles outcomes through one store while another store's writer thread commits, with no SQLITE_BUSY", async () => {
    const store = await fresh();
    // The egress thread's own store on the same file, as in a gateway.
    const egress = await second();
    // Rows to settle, one vehicle each so every one is a due head.
    const seedRecs = Array.from({ length: 150 }, () => record({ receivedAt: T0 }));
    await store.commitIngest(seedRecs.map((r, i) => item(r, [projection(r, { vehicle: `s${i}` })])));
    const rows = await store.dueOutboxHeads(T0 + 1, 1_000);
    expect(rows).toHaveLength(150);

    // The writer thread commits back to back, holding the write lock most of the time...
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing && n < 2_000) {
        const recs = Array.from({ length: 25 }, () => record({ receivedAt: T0 + 10 }));
        await store.commitIngest(recs.map((r) => item(r, [projection(r, { vehicle: 'w' })])));
        n += 1;
      }
      return n;
    })();
    // ...while each outcome is settled in its own transaction (it reads, then writes).
    const failures: string[] = [];
    for (const row of rows) {
      const s: EgressSettlement = { kind: 'delivered', outboxId: row.id, entry: entry(row) };
      await egress.settleOutbox([s]).catch((err: Error) => failures.push(err.message));
      await new Promise((r) => setImmediate(r));
    }
    writing = false;
    const commits = await writer;
    expect(commits).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    expect(await store.counts()).toMatchObject({ egressLog: 150, records: 150 + commits * 25 });
  });

  it('resolves a commit once its rows are readable on the store connection, decision included', async () => {
    const store = await fresh();
    const r = record({ lat: 48.1 });
    const decision = {
      fields: { 'Vehicle.Speed': { outcome: 'passed' as const, reason: 'listed' } },
      toJSON() {
        return { fields: this.fields, notes: ['as stored'] };
      },
    };
    await store.commitIngest([item(r, [projection(r, { decision })])]);
    const stored = await store.getRecord(r.id);
    expect(stored?.record.id).toBe(r.id);
    expect(stored?.raw.toString()).toBe(JSON.stringify({ id: r.id, v: 1 }));
    const [row] = await store.dueOutboxHeads(r.receivedAt + 1, 10);
    expect(row?.recordId).toBe(r.id);
  });

  it("settles outcomes on the writer thread: the caller's connection has not written them when the call returns", async () => {
    const { file, store } = ownFile();
    const r = record({ receivedAt: T0 });
    await store.commitIngest([item(r, [projection(r)])]);
    const [row] = await store.dueOutboxHeads(T0 + 1, 10);
    // Had the settle run on the store's connection (and with it its fsync, on the delivering
    // thread's event loop), its egress-log row would be counted at once. This thread holds the
    // file's write lock meanwhile, so the writer thread cannot commit before that read either.
    let settled: Promise<void> | undefined;
    let meanwhile: ReturnType<Store['counts']> | undefined;
    writeLock(file, 5_000).hold(() => {
      settled = store.settleOutbox([{ kind: 'delivered', outboxId: row!.id, entry: entry(row!) }]);
      meanwhile = store.counts();
    });
    await settled;
    expect((await meanwhile!).egressLog).toBe(0);
    // Resolved: durable and readable on the caller's connection.
    expect((await store.counts()).egressLog).toBe(1);
    expect((await store.outboxStates([row!.id])).get(row!.id)?.status).toBe('delivered');
  });

  it("marks relayed rows published on the writer thread: the caller's connection has not written them when the call returns", async () => {
    const { file, store } = ownFile();
    const r = record({ receivedAt: T0 });
    await store.commitIngest([item(r, [projection(r)])]);
    const [row] = await store.leaseUnpublished(T0 + 1, 10, 60_000);
    // As above: the write lock held here keeps the writer thread's commit after the read.
    let marked: Promise<void> | undefined;
    let meanwhile: ReturnType<Store['counts']> | undefined;
    writeLock(file, 5_000).hold(() => {
      marked = store.markPublished([row!.id]);
      meanwhile = store.counts();
    });
    await marked;
    expect((await meanwhile!).outboxPending).toBe(1);
    expect((await store.counts()).outboxPending).toBe(0);
    expect((await store.outboxStates([row!.id])).get(row!.id)?.status).toBe('published');
  });
});

describe('SQLite: the Kafka relay leases on the writer thread', () => {
  it("leases unpublished rows there: the caller's connection has not written the lease when the call returns", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shk-relay-lease-'));
    const file = path.join(dir, 'shekara.db');
    const store = openSqliteStore(file);
    onTestFinished(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const r = record({ receivedAt: T0 });
    await store.commitIngest([item(r, [projection(r)])]);
    // Had the lease run on the store's connection (under the write lock, on the relay's thread),
    // the row would be leased already, and not due, at once. This thread holds the file's write
    // lock meanwhile, so the writer thread cannot commit the lease before that read either.
    let leased: Promise<OutboxRow[]> | undefined;
    let meanwhile: Promise<OutboxRow[]> | undefined;
    writeLock(file, 5_000).hold(() => {
      leased = store.leaseUnpublished(T0 + 1, 10, 60_000);
      meanwhile = store.dueOutboxHeads(T0 + 1, 10);
    });
    expect((await leased!).map((row) => row.recordId)).toEqual([r.id]);
    expect(await meanwhile!).toHaveLength(1);
    // Resolved: committed, and the caller's connection sees the lease.
    expect(await store.dueOutboxHeads(T0 + 1, 10)).toHaveLength(0);
    expect(await store.leaseUnpublished(T0 + 1, 10, 60_000)).toEqual([]);
  });

  it("answers the lease with ids only: the rows' contents are read on the relay's connection, not handed over by the writer", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shk-relay-lease-'));
    const file = path.join(dir, 'shekara.db');
    const store = openSqliteStore(file); // migrates the file
    const writer = ingestWriterThread(file);
    try {
      const recs = [record({ receivedAt: T0 }), record({ receivedAt: T0 })];
      await store.commitIngest(recs.map((r, i) => item(r, [projection(r, { vehicle: `v${i}` })])));
      const due = await store.dueOutboxHeads(T0 + 1, 10);
      // The writer thread's reply: the leased ids, in id order, and nothing of the rows.
      expect(await writer.lease(T0 + 1, 10, 60_000)).toEqual(due.map((row) => row.id).sort((a, b) => a - b));
      // Leased: neither the store nor the writer leases them again until the lease ends.
      expect(await store.leaseUnpublished(T0 + 1, 10, 60_000)).toEqual([]);
      expect(await writer.lease(T0 + 1, 10, 60_000)).toEqual([]);
      // After it ended, the store's lease reads the rows whole on its own connection.
      const again = await store.leaseUnpublished(T0 + 60_002, 10, 60_000);
      expect(again.map((row) => row.recordId).sort()).toEqual(recs.map((r) => r.id).sort());
      expect(again[0]).toMatchObject({ oem: due[0]!.oem, body: expect.any(String) });
    } finally {
      await writer.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite: one writer thread per file for ingest and egress', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores.reverse()) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** The main thread's store, and the egress thread's on the same file, committing through the first one's writer. */
  const open = async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shk-one-writer-'));
    dirs.push(dir);
    const file = path.join(dir, 'shekara.db');
    const main = openSqliteStore(file);
    const port = writerPortOf(main)!;
    const egress = openSqliteStore(file, {
      writer: { port, reconnect: () => Promise.reject(new Error('the writer thread never dies in this test')) },
    });
    stores.push(main, egress);
    // Rows to settle, one vehicle each so every one is a due head.
    const seed = Array.from({ length: 20 }, () => record({ receivedAt: T0 }));
    await main.commitIngest(seed.map((r, i) => item(r, [projection(r, { vehicle: `s${i}` })])));
    const rows = await main.dueOutboxHeads(T0 + 1, 100);
    expect(rows).toHaveLength(20);
    return { file, main, egress, rows };
  };
  const delivered = (rows: OutboxRow[]): EgressSettlement[] =>
    rows.map((row) => ({ kind: 'delivered', outboxId: row.id, entry: entry(row) }));
  const burst = (n: number) =>
    Array.from({ length: n }, () => record({ receivedAt: T0 + 10 })).map((r) =>
      item(r, [projection(r, { vehicle: 'w' })]),
    );

  it('commits the records and the outcomes that reached it while it waited for the lock in ONE transaction', async () => {
    const { file, main, egress, rows } = await open();
    const before = walCommits(file);
    // Another thread of the process holds the write lock while ingest and egress hand over their
    // writes, as under load: the writer thread is waiting for its turn when they arrive.
    let handed: Promise<void>[] = [];
    writeLock(file, 5_000).hold(() => {
      handed = [
        main.commitIngest(burst(25)),
        egress.settleOutbox(delivered(rows.slice(0, 10))),
        main.commitIngest(burst(25)),
        egress.settleOutbox(delivered(rows.slice(10))),
      ];
    });
    await Promise.all(handed);
    const after = walCommits(file);
    expect(after.salt).toBe(before.salt); // the same WAL generation: no checkpoint restarted it
    // One turn, one commit (one fsync) for both records and outcomes; not one per hand-over.
    expect(after.commits - before.commits).toBe(1);
    expect(await main.counts()).toMatchObject({ records: 70, egressLog: 20, outboxPending: 50 });
    expect([...(await main.outboxStates(rows.map((r) => r.id))).values()].every((s) => s.status === 'delivered')).toBe(
      true,
    );
  });

  it('rolls back a request that fails on its own, and commits the rest of its turn', async () => {
    const { file, main, egress, rows } = await open();
    const again = burst(1); // stored once below; storing it again breaks the records' primary key
    await main.commitIngest(again);
    const before = walCommits(file);
    let handed: Promise<unknown>[] = [];
    writeLock(file, 5_000).hold(() => {
      handed = [
        main.commitIngest(burst(5)),
        main.commitIngest([...burst(3), ...again]),
        egress.settleOutbox(delivered(rows)),
      ];
    });
    // The second commit fails alone; the one before it and the settlement after it commit.
    expect((await Promise.allSettled(handed)).map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(walCommits(file).commits - before.commits).toBe(1);
    // The failed request left nothing behind: not even its three good records.
    expect(await main.counts()).toMatchObject({ records: 20 + 1 + 5, egressLog: 20 });
  });

  it('a client whose writer thread stopped gets a port to the next one and settles there', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shk-one-writer-'));
    dirs.push(dir);
    const file = path.join(dir, 'shekara.db');
    const main = openSqliteStore(file); // migrates the file
    stores.push(main);
    const seed = Array.from({ length: 2 }, () => record({ receivedAt: T0 }));
    await main.commitIngest(seed.map((r, i) => item(r, [projection(r, { vehicle: `v${i}` })])));
    const [first, second] = await main.dueOutboxHeads(T0 + 1, 10);
    const writer = ingestWriterThread(file);
    let reconnects = 0;
    const client = writerClient({
      port: writer.connect(),
      reconnect: async () => {
        reconnects += 1;
        return writer.connect();
      },
    });
    await client.settle(delivered([first!]));
    await writer.close(); // the thread ends; the client's port closes with it
    await client.settle(delivered([second!]));
    expect(reconnects).toBe(1);
    expect((await main.counts()).egressLog).toBe(2);
    await client.close();
    await writer.close();
  });

  describe('outbox shapes crossing by digest', () => {
    const d = {
      fields: {
        'Vehicle.Speed': { outcome: 'passed', reason: 'listed' },
        'Vehicle.CurrentLocation.Latitude': { outcome: 'dropped', reason: 'not listed' },
      },
    } as const;
    const fresh = () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'shk-shapes-'));
      dirs.push(dir);
      const file = path.join(dir, 'shekara.db');
      const main = openSqliteStore(file); // migrates the file
      stores.push(main);
      return { file, main };
    };

    it('a shape committed before the writer thread restarted is named by digest alone after it, and reads back', async () => {
      const { file, main } = fresh();
      const writer = ingestWriterThread(file);
      const [a, b] = [record(), record()];
      await writer.commit([item(a, [projection(a, { vehicle: 'va', decision: d })])]); // its texts cross, and commit
      await writer.close(); // the thread ends; the next commit starts another, which never saw them
      await writer.commit([item(b, [projection(b, { vehicle: 'vb', decision: d })])]);
      await writer.close();
      expect(await main.projectionDecision(b.id, 'acme', 'speed')).toEqual(d);
      expect((await main.dueOutboxHeads(T0 + 1, 10)).map((x) => [x.recordId, x.fieldsSent, x.fieldsDropped])).toEqual(
        [a, b].map((r) => [r.id, ['Vehicle.Speed'], ['Vehicle.CurrentLocation.Latitude']]),
      );
      const db = new Database(file, { readonly: true });
      expect(db.prepare(`SELECT count(*) FROM egress_outbox_shapes`).pluck().get()).toBe(1);
      db.close();
    });

    it('refuses a row that names by digest a shape not in the file, and its commit leaves nothing', async () => {
      const { file, main } = fresh();
      const r = record();
      const { fieldsSent: _s, fieldsDropped: _d, decision: _x, ...rest } = projection(r);
      const db = openConnection(file, Database);
      const commit = ingestTransaction(db);
      expect(() =>
        commit([
          { kind: 'record', record: r, raw: Buffer.from('{}'), projections: [{ ...rest, shape: 'cd'.repeat(32) }] },
        ]),
      ).toThrow(/FOREIGN KEY/);
      db.close();
      expect((await main.counts()).records).toBe(0);
    });
  });
});
