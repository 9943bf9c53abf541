/**
 * One conformance suite, two egress queues: the local durable queue (the outbox table) and
 * Apache Kafka (a real broker, started by test/setup/kafka.ts). Both must deliver every row,
 * keep per-vehicle order across an OEM outage, re-check consent and the destination country
 * at send time, dead-letter after maxAttempts — and log every outcome.
 */
import { describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { verifySignature, exportSigningKey, dlqTopicOf, type Egress, type EgressDeps } from '../../src/egress/index.js';
import type { OutboxRow, Store } from '../../src/store/index.js';
import { commitRecords, eventually, KAFKA_BROKERS, useEgressRig, type QueueKind, type TestSink } from './helpers.js';

// Each queue twice: one POST per projection, and batched push (oems[].batch, docs/oem-api.md).
const VARIANTS: [QueueKind, string, Record<string, unknown>][] = [
  ['local', 'single', {}],
  ['kafka', 'single', {}],
  ['local', 'batched', { batch: { maxRecords: 16, maxWaitMs: 5 } }],
  ['kafka', 'batched', { batch: { maxRecords: 16, maxWaitMs: 5 } }],
];

describe.each(VARIANTS)('egress queue conformance (%s, %s)', (kind, _mode, oemDelivery) => {
  const rig = useEgressRig(kind);
  let store: Store;
  let sink: TestSink;
  let egress: Egress;

  const start = async (
    egressOverrides: Record<string, unknown> = {},
    oemOverrides: Record<string, unknown> = {},
    extra: Partial<EgressDeps> = {},
  ) => {
    const started = await rig.start({ egress: egressOverrides, oem: { ...oemDelivery, ...oemOverrides }, deps: extra });
    ({ store, sink, egress } = started);
    return started.config;
  };

  it('delivers every row once, signed, with its stored delivery id as the idempotency key, and logs the address it used', async () => {
    await start();
    const rows = await commitRecords(store, 4, 5);
    egress.wake();
    await eventually(() => sink.hits.length >= rows.length, 20_000, 'all deliveries');
    const key = Buffer.from((await exportSigningKey(store, 'demo-oem'))!, 'base64url');
    expect(sink.hits.map((h) => h.body.deliveryId).sort()).toEqual(rows.map((r) => r.deliveryId).sort());
    for (const h of sink.hits) {
      expect(h.headers['idempotency-key']).toBe(h.body.deliveryId);
      expect(h.headers['shekara-delivery-id']).toBe(h.body.deliveryId);
      expect(verifySignature(key, h.raw, h.headers['shekara-signature'] as string, Date.now())).toBe(true);
      expect(
        verifySignature(
          key,
          h.raw.replace('"Vehicle.Speed"', '"Vehicle.Speeds"'),
          h.headers['shekara-signature'] as string,
          Date.now(),
        ),
      ).toBe(false);
    }
    const log = await eventually(
      async () => {
        const l = await store.listEgressLog();
        return l.length >= rows.length && l;
      },
      5_000,
      'log rows',
    );
    expect(
      log.every(
        (r) => r.outcome === 'delivered' && r.destinationIp === '127.0.0.1' && r.destinationCountry === 'private',
      ),
    ).toBe(true);
    expect((await store.counts()).outboxPending).toBe(0);
  });

  it('when the OEM is down and comes back, drains the backlog with nothing lost and each vehicle in order', async () => {
    await start();
    sink.status = 503;
    const rows = await commitRecords(store, 5, 8);
    egress.wake();
    // The outage lasts over several rounds of retries (not a fixed time): six failed attempts.
    await eventually(
      async () => (await store.listEgressLog()).filter((r) => r.outcome === 'failed').length >= 6,
      10_000,
      'failed attempts',
    );
    sink.status = 200;
    await eventually(
      () => new Set(sink.hits.map((h) => h.body.deliveryId)).size >= rows.length,
      30_000,
      'backlog drained',
    );
    const byVehicle = new Map<string, number[]>();
    for (const h of sink.hits)
      byVehicle.set(h.body.vehicle, [
        ...(byVehicle.get(h.body.vehicle) ?? []),
        h.body.signals['Vehicle.Speed'] as number,
      ]);
    expect(byVehicle.size).toBe(5);
    for (const seqs of byVehicle.values()) expect(seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect((await store.listEgressLog({ limit: 10_000 })).some((r) => r.outcome === 'dead-lettered')).toBe(false);
  });

  it('re-checks consent just before sending: a revocation after enqueue blocks the delivery and logs it', async () => {
    const revoked = new Set<string>();
    // The local queue reads the outbox only when woken (below): a poll could otherwise find the
    // rows once committed (the store's writer thread) and check consent before the revocation.
    await start(
      kind === 'local' ? { pollIntervalMs: 60_000 } : {},
      {},
      {
        isStillAllowed: async (row: OutboxRow) => !revoked.has(row.pseudonym),
      },
    );
    const rows = await commitRecords(store, 2, 3);
    revoked.add(rows[0]!.vehicle); // after enqueue, before delivery
    egress.wake();
    const log = await eventually(
      async () => {
        const l = await store.listEgressLog();
        return l.length >= rows.length && l;
      },
      20_000,
      'every row settled',
    );
    const blocked = log.filter((r) => r.outcome === 'blocked');
    expect(blocked).toHaveLength(3);
    expect(
      blocked.every((r) => r.pseudonym === rows[0]!.vehicle && r.error === 'consent revoked' && r.httpStatus === null),
    ).toBe(true);
    expect(sink.hits.some((h) => h.body.vehicle === rows[0]!.vehicle)).toBe(false);
    expect(sink.hits).toHaveLength(3);
  });

  it('never connects to an OEM that pulls: every row is parked in its feed, each vehicle in order, nothing logged', async () => {
    await start({}, { delivery: 'pull' });
    const rows = await commitRecords(store, 3, 4);
    egress.wake();
    const resolved = await eventually(
      async () => {
        const f = await store.pullFeed('demo-oem', 0, 100);
        return f.length === rows.length && f;
      },
      20_000,
      'every row parked',
    );
    expect(sink.connections).toBe(0);
    expect(await store.listEgressLog()).toEqual([]);
    expect(resolved.every((r) => r.status === 'pull')).toBe(true);
    const seqs = resolved.map((r) => r.feedSeq);
    expect(new Set(seqs).size).toBe(seqs.length);
    for (const v of new Set(rows.map((r) => r.vehicle))) {
      const mine = resolved
        .filter((r) => r.pseudonym === v)
        .map((r) => JSON.parse(r.body).signals['Vehicle.Speed'] as number);
      expect(mine).toEqual([0, 1, 2, 3]);
    }
  });

  it('blocks and logs a destination that resolves to a country not allowed, without connecting', async () => {
    let transportCalls = 0;
    await start(
      {},
      { endpoint: 'https://oem.example.test/v1/telemetry', allowedCountries: ['DE'], allowPrivateNetworks: false },
      {
        resolve: async () => [{ address: '8.8.8.8', family: 4 }],
        transport: async () => {
          transportCalls += 1;
          return { ok: true, status: 200 };
        },
      },
    );
    const rows = await commitRecords(store, 1, 2);
    egress.wake();
    const log = await eventually(
      async () => {
        const l = await store.listEgressLog();
        return l.length >= rows.length && l;
      },
      20_000,
      'blocked rows logged',
    );
    for (const r of log) {
      expect(r).toMatchObject({
        outcome: 'blocked',
        destination: 'oem.example.test',
        destinationIp: '8.8.8.8',
        destinationCountry: 'US',
        httpStatus: null,
      });
      expect(r.error).toMatch(/^SHK_EGRESS_DEST_COUNTRY: .*8\.8\.8\.8 is in US, not in allowedCountries \[DE\]/);
    }
    expect(transportCalls).toBe(0);
    expect(sink.connections).toBe(0);
  });

  it('dead-letters after maxAttempts, logs every attempt, and never drops the row silently', async () => {
    const config = await start({ maxAttempts: 3, breaker: { failureThreshold: 100, openMs: 100 } });
    sink.status = 500;
    await commitRecords(store, 1, 1);
    egress.wake();
    const log = await eventually(
      async () => {
        const l = await store.listEgressLog();
        return l.some((r) => r.outcome === 'dead-lettered') && l;
      },
      20_000,
      'a dead letter',
    );
    expect(log.map((r) => [r.outcome, r.attempt])).toEqual([
      ['failed', 1],
      ['failed', 2],
      ['dead-lettered', 3],
    ]);
    expect((await store.counts()).outboxDead).toBe(1);
    if (kind === 'kafka') {
      const admin = new Kafka({ brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(dlqTopicOf(config.egress.queue.kafka.topicPrefix, 'demo-oem'));
      await admin.disconnect();
      expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(1);
    }
  });
});
