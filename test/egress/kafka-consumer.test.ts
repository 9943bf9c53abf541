/**
 * The Kafka consumer against a real broker and a real SQLite store: a fetched batch's row
 * states are read in one store query (not one per message), a row published twice (a relay that
 * crashed between the broker's acknowledgement and its mark) is delivered once, every vehicle's
 * rows reach the worker in outbox order, and the offsets are committed once the outcomes are
 * durable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Message } from 'kafkajs';
import type { OutboxRow, Store } from '../../src/store/types.js';
import { toMessage } from '../../src/egress/kafka-relay.js';
import { startOemConsumer, type OemConsumer } from '../../src/egress/kafka-consumer.js';
import { createSettler } from '../../src/egress/settler.js';
import type { DeliveryWorker } from '../../src/egress/chain.js';
import { createLogger } from '../../src/log.js';
import { entry, item, projection, record } from '../store/backends.js';
import { eventually, kafkaFixture, tempStore, type TempStore } from './helpers.js';

describe('egress through Kafka › the consumer of an OEM topic', () => {
  const prefix = `cons${randomBytes(3).toString('hex')}.`;
  const topic = `${prefix}egress.acme`;
  const mixed = `${prefix}egress.mixed`;
  let tmp: TempStore;
  let store: Store;
  let fx: Awaited<ReturnType<typeof kafkaFixture>>;
  let consumer: OemConsumer | undefined;
  let second: OemConsumer | undefined;
  beforeAll(async () => {
    tmp = tempStore();
    store = tmp.store;
    fx = await kafkaFixture('consumer-test', [
      { topic, numPartitions: 2 },
      { topic: `${topic}.dlq`, numPartitions: 1 },
      { topic: mixed, numPartitions: 1 },
      { topic: `${mixed}.dlq`, numPartitions: 1 },
    ]);
  });
  afterAll(async () => {
    await consumer?.close();
    await second?.close();
    await fx?.close();
    await tmp?.dispose();
  });

  it('reads each fetched batch’s states at once, delivers a row published twice once, each vehicle in order', async () => {
    const vehicles = Array.from({ length: 40 }, (_, i) => `veh-${i % 5}`);
    await store.commitIngest(
      vehicles.map((vehicle) => {
        const r = record();
        return item(r, [projection(r, { vehicle })]);
      }),
    );
    const rows = await store.leaseUnpublished(Date.now(), 100, 60_000);
    expect(rows).toHaveLength(40);
    // Every row once, then the first ten again (published twice), all in one produce request.
    await fx.producer.sendBatch({
      acks: -1,
      topicMessages: [{ topic, messages: [...rows, ...rows.slice(0, 10)].map((r) => toMessage(r)) }],
    });
    await store.markPublished(rows.map((r) => r.id));

    let reads = 0;
    const counted: Store = Object.create(store) as Store;
    counted.outboxState = async (id) => {
      reads += 1;
      return store.outboxState(id);
    };
    counted.outboxStates = async (ids) => {
      reads += 1;
      return store.outboxStates(ids);
    };
    const sent: OutboxRow[] = [];
    const worker: DeliveryWorker = async (row) => {
      sent.push(row);
      return { kind: 'delivered', outboxId: row.id, entry: entry(row) };
    };
    consumer = await startOemConsumer(
      {
        groupId: `${prefix}egress.acme`,
        topic,
        dlqTopic: `${topic}.dlq`,
        concurrency: 8,
        partitions: 2,
        maxWaitTimeMs: 100,
        sessionTimeoutMs: 10_000,
      },
      {
        kafka: fx.kafka,
        producer: fx.producer,
        store: counted,
        worker,
        settler: createSettler(store),
        log: createLogger('silent'),
      },
    );
    await eventually(
      async () =>
        [...(await store.outboxStates(rows.map((r) => r.id))).values()].every((s) => s.status === 'delivered'),
      30_000,
      'every row delivered',
    );
    // Fetched batches, not messages: 50 messages cannot have taken 50 reads.
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThan(25);
    expect(sent.map((r) => r.id).sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
    for (const v of new Set(vehicles)) {
      const ids = sent.filter((r) => r.pseudonym === v).map((r) => r.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    expect(await store.counts()).toMatchObject({ egressLog: 40 });

    // The offsets follow the durable outcomes: the group's committed offsets reach the end.
    const admin = fx.kafka.admin();
    await admin.connect();
    try {
      await eventually(
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId: `${prefix}egress.acme`, topics: [topic] });
          const end = await admin.fetchTopicOffsets(topic);
          return committed!.partitions.every((p) => p.offset === end.find((e) => e.partition === p.partition)!.offset);
        },
        15_000,
        'offsets committed to the end of every partition',
      );
    } finally {
      await admin.disconnect();
    }
  }, 90_000);

  it('delivers the messages a previous build left in the topic, beside this build’s, as the same rows', async () => {
    const vehicles = Array.from({ length: 12 }, (_, i) => `mix-${i % 3}`);
    await store.commitIngest(
      vehicles.map((vehicle) => {
        const r = record();
        return item(r, [projection(r, { vehicle })]);
      }),
    );
    const rows = await store.leaseUnpublished(Date.now(), 100, 60_000);
    expect(rows).toHaveLength(12);
    // The previous builds' message: the whole row but its attempts and traceparent, as JSON.
    const previousBuild = (r: OutboxRow): Message => {
      const { attempts: _a, traceParent: _t, ...rest } = r;
      return {
        key: r.pseudonym,
        value: JSON.stringify(rest),
        headers: { 'shekara-record-id': r.recordId, 'shekara-outbox-id': String(r.id), 'shekara-purpose': r.purpose },
      };
    };
    await fx.producer.sendBatch({
      acks: -1,
      topicMessages: [{ topic: mixed, messages: rows.map((r, i) => (i % 2 === 0 ? previousBuild(r) : toMessage(r))) }],
    });
    await store.markPublished(rows.map((r) => r.id));

    const sent: OutboxRow[] = [];
    const worker: DeliveryWorker = async (row) => {
      sent.push(row);
      return { kind: 'delivered', outboxId: row.id, entry: entry(row) };
    };
    second = await startOemConsumer(
      {
        groupId: `${prefix}egress.mixed`,
        topic: mixed,
        dlqTopic: `${mixed}.dlq`,
        concurrency: 4,
        partitions: 1,
        maxWaitTimeMs: 100,
        sessionTimeoutMs: 10_000,
      },
      {
        kafka: fx.kafka,
        producer: fx.producer,
        store,
        worker,
        settler: createSettler(store),
        log: createLogger('silent'),
      },
    );
    await eventually(
      async () =>
        [...(await store.outboxStates(rows.map((r) => r.id))).values()].every((s) => s.status === 'delivered'),
      30_000,
      'every row delivered',
    );
    const byId = new Map(sent.map((r) => [r.id, r]));
    for (const r of rows) {
      const { traceParent: _t, ...got } = byId.get(r.id)!;
      const { traceParent: _s, ...want } = r;
      expect(got).toEqual({ ...want, attempts: 0 });
    }
  }, 90_000);
});
