/**
 * On every store backend: the egress log's integration (docs/audit.md "Sequencing") and the
 * batch read of outbox states a Kafka consumer makes per fetched batch. SQLite integrates each
 * outcome inside its settle transaction (nothing is ever staged); PostgreSQL stages it and an
 * integrator round moves it into the log. Either way the methods answer the same questions the
 * same way: what waits, since when, how much a round took, and a log with consecutive `seq` and
 * leaf indexes once it has run.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { backends, useBackend, deliver, outboxRows } from './backends.js';

/** Runs integration rounds until one takes nothing; returns what each round took. */
async function integrateAll(store: Store, max?: number): Promise<number[]> {
  const rounds: number[] = [];
  for (;;) {
    const r = await store.integrateEgressLog(max === undefined ? {} : { max });
    expect(r.leader).toBe(true);
    if (r.integrated === 0) return rounds;
    expect(r.oldestStagedAt).not.toBeNull();
    rounds.push(r.integrated);
  }
}

describe.each(backends())('egress-log integration conformance: $name', (backend) => {
  const { fresh, second } = useBackend(backend);

  it('reports what waits and since when, and after a round nothing waits and the log is consecutive', async () => {
    const store = await fresh();
    const rows = await outboxRows(store, ['v1', 'v2', 'v3']);
    const before = Date.now();
    await deliver(store, rows);
    const staged = await store.egressLogStaged();
    // Integrated in the settle (SQLite) or staged whole (PostgreSQL): never part of a settle.
    expect(staged.staged).toBe(backend.name === 'SQLite' ? 0 : 3);
    if (staged.staged === 0) expect(staged.oldestStagedAt).toBeNull();
    else expect(staged.oldestStagedAt).toBeGreaterThanOrEqual(before - 1_000);

    const rounds = await integrateAll(store);
    expect(rounds.reduce((a, b) => a + b, 0)).toBe(staged.staged);
    expect(await store.egressLogStaged()).toEqual({ staged: 0, oldestStagedAt: null });
    expect(await store.integrateEgressLog()).toEqual({ integrated: 0, oldestStagedAt: null, leader: true });
    expect((await store.listEgressLog()).map((e) => [e.seq, e.recordId])).toEqual(
      rows.map((r, i) => [i + 1, r.recordId]),
    );
    expect(await store.auditTreeSize()).toBe(3);
  });

  it('takes at most `max` entries per round, in settle order', async () => {
    const store = await fresh();
    const rows = await outboxRows(store, ['v1', 'v2', 'v3', 'v4', 'v5']);
    for (const r of rows) await deliver(store, [r]);
    const rounds = await integrateAll(store, 2);
    expect(rounds).toEqual(backend.name === 'SQLite' ? [] : [2, 2, 1]);
    expect((await store.listEgressLog()).map((e) => e.recordId)).toEqual(rows.map((r) => r.recordId));
  });

  it('catching up integrates what another instance settled before the call', async () => {
    const store = await fresh();
    const other = await second();
    const rows = await outboxRows(store, ['v1', 'v2']);
    await deliver(other, rows);
    await store.catchUpEgressLog();
    expect(await store.egressLogStaged()).toEqual({ staged: 0, oldestStagedAt: null });
    expect(await other.egressLogStaged()).toEqual({ staged: 0, oldestStagedAt: null });
    expect(await store.auditTreeSize()).toBe(2);
  });

  it('reads the states of many outbox rows at once, as one read per row would', async () => {
    const store = await fresh();
    const [a, b, c] = await outboxRows(store, ['v1', 'v2', 'v3']);
    await deliver(store, [a!]);
    await store.markPublished([b!.id]);
    const states = await store.outboxStates([a!.id, b!.id, c!.id, 999_999]);
    expect([...states.keys()].sort((x, y) => x - y)).toEqual([a!.id, b!.id, c!.id].sort((x, y) => x - y));
    for (const id of [a!.id, b!.id, c!.id]) expect(states.get(id)).toEqual(await store.outboxState(id));
    expect(states.get(a!.id)).toEqual({ status: 'delivered', attempts: 1 });
    expect(states.get(b!.id)?.status).toBe('published');
    expect(states.get(c!.id)?.status).toBe('pending');
    expect((await store.outboxStates([])).size).toBe(0);
  });
});
