/**
 * On every store backend: no record is processed twice into the egress log. Whoever
 * settles a push row after it was delivered or dead-lettered (a second consumer after a Kafka
 * rebalance, a redelivered message, another instance on the same PostgreSQL) changes nothing and
 * leaves no second entry; a row blocked while its delivery was on the wire is still logged.
 */
import { describe, expect, it } from 'vitest';
import type { EgressLogEntry, EgressSettlement, OutboxRow, Store } from '../../src/store/types.js';
import { backends, useBackend, entry, outboxRows, deliver, T0, VIN1 } from './backends.js';

const actor = { source: 'owner-app', apiKey: 'k1', owner: 'o1' };
const delivered = (rows: OutboxRow[], o: Partial<EgressLogEntry> = {}) =>
  rows.map((r): EgressSettlement => ({ kind: 'delivered', outboxId: r.id, entry: entry(r, o) }));
const outcomes = async (store: Store, row: OutboxRow) =>
  (await store.listEgressLog({ recordId: row.recordId })).map((e) => e.outcome);

describe.each(backends())('settle conformance: $name', (backend) => {
  const { fresh, second } = useBackend(backend);

  describe('a push row already delivered or dead', () => {
    it('settled again with the same entry, keeps one delivered entry, the audit tree and the attempt count as they were', async () => {
      const store = await fresh();
      const [row] = await outboxRows(store, ['v1']);
      await store.settleOutbox(delivered([row!]));
      const size = await store.auditTreeSize();
      const root = await store.auditRoot();

      await store.settleOutbox(delivered([row!]));
      await store.recordDelivery(row!.id, entry(row!));
      expect(await outcomes(store, row!)).toEqual(['delivered']);
      expect(await store.auditTreeSize()).toBe(size);
      expect(await store.auditRoot()).toEqual(root);
      expect(await store.outboxState(row!.id)).toEqual({ status: 'delivered', attempts: 1 });
      expect(await store.counts()).toMatchObject({ egressLog: 1 });
    });

    it('named twice in one batch, is logged once, and the rest of the batch is logged in order', async () => {
      const store = await fresh();
      const [x, y] = await outboxRows(store, ['v1', 'v2']);
      await store.settleOutbox([...delivered([x!, y!]), ...delivered([x!], { attempt: 2 })]);
      expect((await store.listEgressLog()).map((e) => [e.seq, e.recordId, e.attempt])).toEqual([
        [1, x!.recordId, 1],
        [2, y!.recordId, 1],
      ]);
      expect(await store.outboxState(x!.id)).toEqual({ status: 'delivered', attempts: 1 });
      expect(await store.auditTreeSize()).toBe(2);
    });

    it('takes no later failed, dead or blocked outcome: the status, the attempts and the log stay as they were', async () => {
      const store = await fresh();
      const [a, b] = await outboxRows(store, ['v1', 'v2']);
      await store.settleOutbox([
        { kind: 'delivered', outboxId: a!.id, entry: entry(a!) },
        {
          kind: 'dead',
          outboxId: b!.id,
          entry: entry(b!, { outcome: 'dead-lettered', httpStatus: 400, error: 'HTTP 400' }),
        },
      ]);
      const late = (r: OutboxRow): EgressSettlement[] => [
        {
          kind: 'failed',
          outboxId: r.id,
          entry: entry(r, { outcome: 'failed', httpStatus: 503, error: 'HTTP 503', attempt: 2 }),
          nextAttemptAt: T0 + 5_000,
        },
        {
          kind: 'dead',
          outboxId: r.id,
          entry: entry(r, { outcome: 'dead-lettered', httpStatus: 400, error: 'HTTP 400', attempt: 2 }),
        },
        {
          kind: 'blocked',
          outboxId: r.id,
          entry: entry(r, { outcome: 'blocked', httpStatus: null, error: 'SHK_EGRESS_CONSENT_REVOKED', attempt: 2 }),
        },
      ];
      await store.settleOutbox(late(a!));
      await store.settleOutbox([...delivered([b!], { attempt: 2 }), ...late(b!)]);
      await store.recordFailedAttempt(a!.id, entry(a!, { outcome: 'failed', error: 'timeout' }), T0 + 5_000);
      await store.recordDeadLetter(a!.id, entry(a!, { outcome: 'dead-lettered', error: 'HTTP 400' }));

      expect(await store.outboxState(a!.id)).toEqual({ status: 'delivered', attempts: 1 });
      expect(await store.outboxState(b!.id)).toEqual({ status: 'dead', attempts: 1 });
      expect((await store.listEgressLog()).map((e) => [e.recordId, e.outcome])).toEqual([
        [a!.recordId, 'delivered'],
        [b!.recordId, 'dead-lettered'],
      ]);
      expect(await store.auditTreeSize()).toBe(2);
      expect(await store.nextDueAt()).toBeUndefined();
      expect(await store.counts()).toMatchObject({ outboxPending: 0, outboxDead: 1, egressLog: 2 });
    });
  });

  describe('two instances settling the same leased rows at the same moment', () => {
    it('log one entry for one row', async () => {
      const store = await fresh();
      const other = await second();
      await outboxRows(store, ['v1']);
      const [row] = await store.leaseDueOutbox(T0, 10, 60_000);
      await Promise.all([store.settleOutbox(delivered([row!])), other.settleOutbox(delivered([row!]))]);
      expect(await outcomes(store, row!)).toEqual(['delivered']);
      expect(await other.outboxState(row!.id)).toEqual({ status: 'delivered', attempts: 1 });
      expect(await store.auditTreeSize()).toBe(1);
    });

    it('log each of many rows once, whatever order each batch names them in, and neither settle fails', async () => {
      const store = await fresh();
      const other = await second();
      await outboxRows(
        store,
        Array.from({ length: 24 }, (_, i) => `v${i}`),
      );
      const rows = (await store.leaseDueOutbox(T0, 100, 60_000)).sort((p, q) => p.id - q.id);
      expect(rows).toHaveLength(24);
      const back = [...rows].reverse();
      await Promise.all([
        store.settleOutbox(delivered(rows)),
        other.settleOutbox(delivered(back)),
        other.settleOutbox(delivered(rows.slice(0, 16))),
        store.settleOutbox(delivered(back.slice(0, 16))),
      ]);
      const log = await store.listEgressLog();
      expect(log.map((e) => e.recordId).sort()).toEqual(rows.map((r) => r.recordId).sort());
      expect(log.map((e) => e.seq)).toEqual(rows.map((_, i) => i + 1));
      expect(await store.auditTreeSize()).toBe(24);
      expect(new Set(await Promise.all(rows.map(async (r) => JSON.stringify(await other.outboxState(r.id)))))).toEqual(
        new Set([JSON.stringify({ status: 'delivered', attempts: 1 })]),
      );
    });
  });

  it('logs a delivery that was on the wire when a revocation blocked its row, once, as delivered, and the row stays blocked', async () => {
    const store = await fresh();
    await outboxRows(store, ['v1']);
    const [row] = await store.leaseDueOutbox(T0, 10, 60_000);
    expect(
      await store.revokeConsentLogged({
        vin: VIN1,
        oem: 'acme',
        purpose: 'speed',
        atMs: T0 + 500,
        pseudonym: 'v1',
        actor,
      }),
    ).toMatchObject({ blockedPending: 1 });
    const size = await store.auditTreeSize();

    await deliver(store, [row!]);
    expect(await outcomes(store, row!)).toEqual(['delivered']);
    expect(await store.outboxState(row!.id)).toEqual({ status: 'blocked', attempts: 0 });
    expect(await store.auditTreeSize()).toBe(size + 1);
  });
});
