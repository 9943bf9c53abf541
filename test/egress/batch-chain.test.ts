/**
 * Per-vehicle batches against a real HTTP OEM endpoint, on SQLite and PostgreSQL (store leases
 * in the row, as several instances use them), through the local queue and through Kafka: a
 * backlogged vehicle's records leave several to a POST, in order; a POST refused mid-backlog is
 * sent again with the same ids before anything behind it; the egress log holds exactly one
 * `delivered` entry per projection; consent is looked up once per vehicle and POST.
 */
import { describe, expect, it } from 'vitest';
import type { Egress } from '../../src/egress/index.js';
import type { OutboxRow, Store } from '../../src/store/index.js';
import { backends, useBackend } from '../store/backends.js';
import { commitRecords, eventually, useEgressRig, type QueueKind, type TestSink } from './helpers.js';

type Item = { deliveryId: string; body: { vehicle: string; signals: Record<string, number> } };
/** A POST's items: a batch's, or the one projection of a POST that carried one alone. */
const itemsOf = (raw: string): Item[] => {
  const body = JSON.parse(raw) as { items?: Item[] } & Item['body'] & { deliveryId: string };
  return body.items ?? [{ deliveryId: body.deliveryId, body }];
};

describe.each(backends())('per-vehicle batches ($name)', (backend) => {
  const b = useBackend(backend);
  describe.each<QueueKind>(['local', 'kafka'])('%s queue', (kind) => {
    const rig = useEgressRig(kind);
    let sink: TestSink;
    let egress: Egress;

    const start = async (store: Store, batch: Record<string, unknown>, isStillAllowed = async () => true) => {
      ({ egress } = await rig.start({
        store,
        egress: { concurrency: 8, maxAttempts: 5 },
        oem: { batch },
        deps: {
          isStillAllowed: isStillAllowed as (row: OutboxRow) => Promise<boolean>,
          sharedStore: backend.name === 'PostgreSQL',
        },
      }));
    };

    /** The accepted POSTs, each as its items (sink.hits are per item; raw is the whole POST). */
    const acceptedPosts = () => [...new Set(sink.hits.map((h) => h.raw))].map(itemsOf);

    const deliveredOnce = async (store: Store, records: { deliveryId: string }[]) => {
      const log = await eventually(
        async () => {
          const l = await store.listEgressLog({ limit: 10_000 });
          return l.filter((e) => e.outcome === 'delivered').length >= records.length && l;
        },
        20_000,
        'a delivered entry per projection',
      );
      const delivered = log.filter((e) => e.outcome === 'delivered').map((e) => e.deliveryId);
      expect(delivered.sort()).toEqual(records.map((r) => r.deliveryId).sort());
      return log;
    };

    it('sends a backlogged vehicle’s records several to a POST, in order, one log entry each', async () => {
      const store = await b.fresh();
      sink = await rig.sink();
      const records = await commitRecords(store, 3, 10);
      await start(store, { maxRecords: 4, maxWaitMs: 20 });
      egress.wake();
      await eventually(() => sink.hits.length >= records.length, 30_000, 'every record at the OEM');
      await deliveredOnce(store, records);

      // Exactly once each, and per vehicle in order: 0 … 9.
      expect(new Set(sink.hits.map((h) => h.headers['idempotency-key'])).size).toBe(records.length);
      const seqs = new Map<string, number[]>();
      for (const h of sink.hits)
        seqs.set(h.body.vehicle, [...(seqs.get(h.body.vehicle) ?? []), h.body.signals['Vehicle.Speed'] as number]);
      for (const s of seqs.values()) expect(s).toEqual([...Array(10).keys()]);
      // Several records of one vehicle in one POST, each POST within maxRecords.
      const posts = acceptedPosts();
      const perVehicle = posts.map((items) => {
        const n = new Map<string, number>();
        for (const it of items) n.set(it.body.vehicle, (n.get(it.body.vehicle) ?? 0) + 1);
        return Math.max(...n.values());
      });
      expect(Math.max(...perVehicle)).toBeGreaterThan(1);
      for (const items of posts) expect(items.length).toBeLessThanOrEqual(4);
    });

    it('sends a POST refused mid-backlog again with the same ids, before the records behind it', async () => {
      const store = await b.fresh();
      sink = await rig.sink();
      sink.answer = (n) => (n === 1 ? 503 : 200); // the second POST is refused, the rest accepted
      const records = await commitRecords(store, 1, 10);
      await start(store, { maxRecords: 4, maxWaitMs: 20 });
      egress.wake();
      await eventually(() => sink.hits.length >= records.length, 30_000, 'every record at the OEM');
      const log = await deliveredOnce(store, records);

      // Accepted once each, in order, the refused ones too.
      expect(sink.hits.map((h) => h.body.signals['Vehicle.Speed'])).toEqual([...Array(10).keys()]);
      expect(sink.refused).toHaveLength(1);
      const refused = itemsOf(sink.refused[0]!).map((i) => i.deliveryId);
      expect(refused.length).toBeGreaterThan(1);
      // The refused POST's items come again, same ids, same order, as the next accepted POST.
      const posts = acceptedPosts();
      const firstAgain = posts.findIndex((items) => items.some((i) => refused.includes(i.deliveryId)));
      expect(posts[firstAgain]!.map((i) => i.deliveryId)).toEqual(refused);
      // Logged: a failed attempt for each refused item, then its delivery; nothing else failed.
      const failed = log.filter((e) => e.outcome === 'failed');
      expect(failed.map((e) => e.deliveryId)).toEqual(refused);
      expect(failed.every((e) => e.attempt === 1 && e.httpStatus === 503)).toBe(true);
      for (const id of refused)
        expect(log.find((e) => e.deliveryId === id && e.outcome === 'delivered')).toMatchObject({ attempt: 2 });
    });

    it('looks consent up once per vehicle and POST, not once per record', async () => {
      const store = await b.fresh();
      sink = await rig.sink();
      const records = await commitRecords(store, 2, 8);
      let lookups = 0;
      await start(store, { maxRecords: 8, maxWaitMs: 20 }, async () => {
        lookups += 1;
        return true;
      });
      egress.wake();
      await eventually(() => sink.hits.length >= records.length, 30_000, 'every record at the OEM');
      // At most one look-up per vehicle in each POST that carried its records.
      let chains = 0;
      for (const items of acceptedPosts()) chains += new Set(items.map((i) => i.body.vehicle)).size;
      expect(lookups).toBeLessThanOrEqual(chains);
      expect(lookups).toBeLessThan(records.length);
    });
  });
});
