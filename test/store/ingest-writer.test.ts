/**
 * SQLite: ingest commits and egress settlements run on a writer thread with its own connection
 * (ingest-writer.ts), while erasure and every other write stay on the store's connection. A
 * gateway has two such stores on one file (the ingest thread's and the egress thread's): each
 * writes the same file, and none may fail because another committed in between.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { record, projection, item, sqliteBackend, entry, useBackend, T0 } from './backends.js';
import type { EgressSettlement } from '../../src/store/types.js';

describe('SQLite ingest writer thread', () => {
  const backend = sqliteBackend();
  const { fresh, second } = useBackend(backend);
  afterAll(() => backend.cleanup());

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
    const store = await fresh();
    const r = record({ receivedAt: T0 });
    await store.commitIngest([item(r, [projection(r)])]);
    const [row] = await store.dueOutboxHeads(T0 + 1, 10);
    const settled = store.settleOutbox([{ kind: 'delivered', outboxId: row!.id, entry: entry(row!) }]);
    // Runs on the store's connection at once. Had the settle run there (and with it its fsync,
    // on the delivering thread's event loop), its egress-log row would be counted already.
    const meanwhile = store.counts();
    await settled;
    expect((await meanwhile).egressLog).toBe(0);
    // Resolved: durable and readable on the caller's connection.
    expect((await store.counts()).egressLog).toBe(1);
    expect((await store.outboxStates([row!.id])).get(row!.id)?.status).toBe('delivered');
  });

  it("marks relayed rows published on the writer thread: the caller's connection has not written them when the call returns", async () => {
    const store = await fresh();
    const r = record({ receivedAt: T0 });
    await store.commitIngest([item(r, [projection(r)])]);
    const [row] = await store.leaseUnpublished(T0 + 1, 10, 60_000);
    const marked = store.markPublished([row!.id]);
    const meanwhile = store.counts();
    await marked;
    expect((await meanwhile).outboxPending).toBe(1);
    expect((await store.counts()).outboxPending).toBe(0);
    expect((await store.outboxStates([row!.id])).get(row!.id)?.status).toBe('published');
  });
});
