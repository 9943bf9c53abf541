/**
 * The outbox relay against a real Kafka broker and a real SQLite store: batches go out one
 * produce request at a time (a vehicle's records reach Kafka in outbox order), the store's
 * bookkeeping runs behind the broker rather than in front of it (a slow `published` mark does
 * not hold back the next batch), and every row is marked published once acknowledged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Store } from '../../src/store/types.js';
import { startRelay, HEADER_OUTBOX_ID, type Relay } from '../../src/egress/kafka-relay.js';
import { createLogger } from '../../src/log.js';
import { item, projection, record } from '../store/backends.js';
import { eventually, kafkaFixture, tempStore, type TempStore } from './helpers.js';

describe('egress through Kafka › the outbox relay', () => {
  const topic = `relay${randomBytes(3).toString('hex')}.egress.acme`;
  let tmp: TempStore;
  let store: Store;
  let fx: Awaited<ReturnType<typeof kafkaFixture>>;
  let producer: Producer;
  let relay: Relay | undefined;
  beforeAll(async () => {
    tmp = tempStore();
    store = tmp.store;
    fx = await kafkaFixture('relay-test', [{ topic, numPartitions: 3 }]);
    producer = fx.producer;
  });
  afterAll(async () => {
    await relay?.close();
    await fx?.close();
    await tmp?.dispose();
  });

  it('keeps producing while the store marks earlier batches, one request in flight, each vehicle in order', async () => {
    // 60 rows of 4 vehicles, interleaved; batches of 10.
    const vehicles = Array.from({ length: 60 }, (_, i) => `veh-${i % 4}`);
    await store.commitIngest(
      vehicles.map((vehicle) => {
        const r = record();
        return item(r, [projection(r, { vehicle })]);
      }),
    );

    // The store's first mark hangs until released: a relay that waited for it would stop there.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let marks = 0;
    const gated: Store = Object.create(store) as Store;
    gated.markPublished = async (ids) => {
      if (marks++ === 0) await gate;
      return store.markPublished(ids);
    };
    // What reached the broker, in the order it was acknowledged, and how many requests overlapped.
    const acked: { key: string; id: number }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const spy: Producer = Object.create(producer) as Producer;
    spy.sendBatch = async (batch) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        const r = await producer.sendBatch(batch);
        for (const { messages } of batch.topicMessages ?? [])
          for (const m of messages)
            acked.push({ key: String(m.key), id: Number(String(m.headers?.[HEADER_OUTBOX_ID])) });
        return r;
      } finally {
        inFlight -= 1;
      }
    };

    relay = startRelay(
      { relayBatchSize: 10, relayLingerMs: 0, pollIntervalMs: 50, requestTimeoutMs: 5_000, leaseMs: 30_000 },
      { producer: spy, store: gated, topicOf: () => topic, log: createLogger('silent'), now: Date.now },
    );
    relay.wake();
    await eventually(() => acked.length === 60, 30_000, 'every batch acknowledged while the first mark hangs');
    expect(marks).toBeGreaterThan(1);
    const ids = acked.map((a) => a.id);
    expect((await store.outboxState(ids[0]!))?.status).toBe('pending'); // its mark is still held

    release();
    await eventually(
      async () => [...(await store.outboxStates(ids)).values()].every((s) => s.status === 'published'),
      10_000,
      'every row marked published',
    );
    expect(maxInFlight).toBe(1);
    expect(new Set(ids).size).toBe(60);
    for (const v of new Set(vehicles)) {
      const ids = acked.filter((a) => a.key === v).map((a) => a.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
  }, 60_000);
});
