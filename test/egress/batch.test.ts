/**
 * Batched push against a real HTTP OEM endpoint: many projections in one signed POST, each with
 * its own idempotency id; the OEM's answer counts for every item (all or nothing); the egress
 * log keeps one entry per projection with the digest of that projection's own body.
 */
import { describe, expect, it } from 'vitest';
import { exportSigningKey, verifySignature, type Egress } from '../../src/egress/index.js';
import { batchBody } from '../../src/egress/batch.js';
import type { OutboxRow, Store } from '../../src/store/index.js';
import { commitRecords, eventually, useEgressRig, type TestSink } from './helpers.js';

describe('batched push', () => {
  const rig = useEgressRig();
  let store: Store;
  let sink: TestSink;
  let egress: Egress;

  const start = async (batch: Record<string, unknown>, egressOverrides: Record<string, unknown> = {}) => {
    ({ store, sink, egress } = await rig.start({ egress: egressOverrides, oem: { batch } }));
  };

  it('carries many projections in one signed POST, each with its own idempotency id, one log entry each', async () => {
    await start({ maxRecords: 8, maxWaitMs: 1_000 });
    const rows = await commitRecords(store, 8, 3);
    egress.wake();
    await eventually(() => sink.hits.length >= rows.length, 20_000, 'all deliveries');
    expect(sink.posts).toBeLessThan(sink.hits.length);
    expect(Math.max(...sink.hits.map((h) => h.batchSize ?? 1))).toBeGreaterThan(1);
    const key = Buffer.from((await exportSigningKey(store, 'demo-oem'))!, 'base64url');
    for (const h of sink.hits) {
      expect(h.headers['content-type']).toBe('application/vnd.shekara.batch+json');
      expect(h.headers['idempotency-key']).toBe(h.body.deliveryId);
      expect(h.headers['shekara-delivery-id']).toBe(h.body.deliveryId);
      expect(verifySignature(key, h.raw, h.headers['shekara-signature'] as string, Date.now())).toBe(true);
    }
    expect(new Set(sink.hits.map((h) => h.headers['idempotency-key'])).size).toBe(rows.length);
    const log = await eventually(
      async () => {
        const l = await store.listEgressLog();
        return l.length >= rows.length && l;
      },
      5_000,
      'log rows',
    );
    expect(log.filter((r) => r.outcome === 'delivered').length).toBe(rows.length);
    expect(new Set(log.map((r) => r.recordId)).size).toBe(rows.length);
    // Per vehicle, in order: 0, 1, 2.
    const byVehicle = new Map<string, unknown[]>();
    for (const h of sink.hits)
      byVehicle.set(h.body.vehicle, [...(byVehicle.get(h.body.vehicle) ?? []), h.body.signals['Vehicle.Speed']]);
    for (const seqs of byVehicle.values()) expect(seqs).toEqual([0, 1, 2]);
  });

  it('keeps a POST within maxBytes of projection bodies', async () => {
    await start({ maxRecords: 100, maxBytes: 1_024, maxWaitMs: 1_000 }, { concurrency: 100 });
    const rows = await commitRecords(store, 40, 1);
    egress.wake();
    await eventually(() => sink.hits.length >= rows.length, 20_000, 'all deliveries');
    const posts = new Map<string, number>();
    for (const h of sink.hits) posts.set(h.raw, h.batchSize ?? 1);
    for (const raw of posts.keys()) {
      const items = (JSON.parse(raw) as { items: { body: unknown }[] }).items;
      const bytes = items.reduce((n, it) => n + Buffer.byteLength(JSON.stringify(it.body)), 0);
      expect(bytes).toBeLessThanOrEqual(1_024);
    }
    expect(posts.size).toBeGreaterThan(1);
  });

  it('treats the answer as every item’s: a 503 retries the whole batch with the same ids, a 400 dead-letters each', async () => {
    await start({ maxRecords: 8, maxWaitMs: 50 }, { maxAttempts: 3 });
    sink.status = 503;
    const rows = await commitRecords(store, 4, 1);
    egress.wake();
    await eventually(
      async () =>
        new Set((await store.listEgressLog()).filter((r) => r.outcome === 'failed').map((r) => r.recordId)).size ===
        rows.length,
      10_000,
      'a failed attempt per item',
    );
    sink.status = 400;
    const log = await eventually(
      async () => {
        const l = await store.listEgressLog({ limit: 1_000 });
        return l.filter((r) => r.outcome === 'dead-lettered').length === rows.length && l;
      },
      10_000,
      'a dead letter per item',
    );
    expect(log.some((r) => r.outcome === 'delivered')).toBe(false);
    expect((await store.counts()).outboxPending).toBe(0);
  });

  it('writes each item’s body byte for byte as the single POST would, so the logged digest is the item’s', () => {
    const row = (id: string, body: string): OutboxRow => ({
      id: 1,
      recordId: id,
      deliveryId: `d_${id}`,
      oem: 'o',
      purpose: 'p',
      policyHash: 'sha256:x',
      pseudonym: 'ps',
      fieldsSent: [],
      fieldsDropped: [],
      body,
      attempts: 0,
    });
    const bodies = ['{"a":1,"b":"x\\u0022"}', '{"z" : [1, 2]}'];
    const text = batchBody([row('r1', bodies[0]!), row('r2', bodies[1]!)]);
    const parsed = JSON.parse(text) as { items: { idempotencyKey: string; body: unknown }[] };
    expect(parsed.items.map((i) => i.idempotencyKey)).toEqual(['d_r1', 'd_r2']);
    expect(parsed.items.map((i) => i.body)).toEqual(bodies.map((b) => JSON.parse(b)));
    // The stored text appears verbatim in the POST: its digest is the one the log keeps.
    for (const b of bodies) expect(text.includes(`"body":${b}}`)).toBe(true);
  });
});
