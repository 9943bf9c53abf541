/**
 * Outbox shapes (migration 0140, src/store/outbox/shapes.ts) on every backend: a decision and
 * field lists that projections share are stored once, every row reads back exactly what was
 * written, and rows written before shapes still read as they were.
 */
import { describe, expect, it } from 'vitest';
import type { Projection } from '../../src/record.js';
import { backends, useBackend, record, projection, item, T0 } from './backends.js';

const decided = (reason: string): Projection['decision'] => ({
  fields: {
    'Vehicle.Speed': { outcome: 'passed', reason: 'listed' },
    'Vehicle.CurrentLocation.Latitude': { outcome: 'dropped', reason },
  },
  notes: ['held back until the car left the trip radius, then released'],
});

describe.each(backends())('store conformance, outbox shapes: $name', (backend) => {
  const { fresh, opened } = useBackend(backend);
  const shapeRows = async () => Number((await opened().sql(`SELECT count(*) AS n FROM egress_outbox_shapes`))[0]!.n);

  describe('when projections share a decision and field lists', () => {
    it('stores the shape once, and every row reads back what was written', async () => {
      const store = await fresh();
      const same = decided('not listed');
      const [a, b, c] = [record(), record(), record()];
      const pa = projection(a, { vehicle: 'va', decision: same });
      const pb = projection(b, { vehicle: 'vb', decision: same });
      const pc = { ...projection(c, { vehicle: 'vc', decision: decided('suppressed: trip start radius') }) };
      await store.commitIngest([item(a, [pa])]);
      await store.commitIngest([item(b, [pb]), item(c, [pc])]);

      expect(await shapeRows()).toBe(2);
      for (const [r, p] of [
        [a, pa],
        [b, pb],
        [c, pc],
      ] as const) {
        expect(await opened().decisionOf(r.id)).toEqual(p.decision);
        expect(await store.projectionDecision(r.id, p.oem, p.purpose)).toEqual(p.decision);
      }
      expect(await store.projectionDecision(a.id, 'acme', 'other')).toBeUndefined();
      // Every read path of a row (heads, the lease, the relay's lease) gives the lists as written.
      const lists = (rows: { recordId: string; fieldsSent: readonly string[]; fieldsDropped: readonly string[] }[]) =>
        rows.map((x) => [x.recordId, x.fieldsSent, x.fieldsDropped]).sort();
      const want = [pa, pb, pc].map((p) => [p.recordId, p.fieldsSent, p.fieldsDropped]).sort();
      expect(lists(await store.dueOutboxHeads(T0 + 1, 10))).toEqual(want);
      expect(lists(await store.leaseDueOutbox(T0 + 1, 10, 60_000))).toEqual(want);
      expect(lists(await store.leaseUnpublished(T0 + 120_000, 10, 60_000))).toEqual(want);
    });

    it('writes a shape again when the commit that first wrote it failed', async () => {
      const store = await fresh();
      const stored = record();
      await store.commitIngest([item(stored)]);
      const d = decided('dropped: not listed');
      const r1 = record();
      // The second item repeats a stored record: the commit fails whole, the shape with it.
      await expect(
        store.commitIngest([item(r1, [projection(r1, { decision: d })]), item(stored)]),
      ).rejects.toBeDefined();
      expect(await shapeRows()).toBe(0);
      const r2 = record();
      await store.commitIngest([item(r2, [projection(r2, { decision: d })])]);
      expect(await shapeRows()).toBe(1);
      expect(await store.projectionDecision(r2.id, 'acme', 'speed')).toEqual(d);
      expect((await store.dueOutboxHeads(T0 + 1, 10)).map((x) => [x.recordId, x.fieldsSent])).toEqual([
        [r2.id, ['Vehicle.Speed']],
      ]);
    });
  });

  describe('when a row was written before shapes', () => {
    it('reads its own field lists and decision, as before', async () => {
      const store = await fresh();
      const r = record();
      await store.commitIngest([item(r)]);
      const d = decided('not listed');
      await opened().sql(
        `INSERT INTO egress_outbox (record_id, delivery_id, oem, purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, decision, next_attempt_at)
        VALUES ($1, $2, 'acme', 'speed', 'sha256:aa', 'p-001', $3, $4, '{"old":true}', $5, $6)`,
        [r.id, `d_${r.id}`, '["Vehicle.Speed"]', '["Vehicle.CurrentLocation.Latitude"]', JSON.stringify(d), T0],
      );
      const [row] = await store.dueOutboxHeads(T0 + 1, 10);
      expect(row).toMatchObject({
        recordId: r.id,
        deliveryId: `d_${r.id}`,
        fieldsSent: ['Vehicle.Speed'],
        fieldsDropped: ['Vehicle.CurrentLocation.Latitude'],
        body: '{"old":true}',
      });
      expect(await store.projectionDecision(r.id, 'acme', 'speed')).toEqual(d);
      expect(await opened().decisionOf(r.id)).toEqual(d);
    });
  });
});
