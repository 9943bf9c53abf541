/**
 * Kafka as the egress queue: per-OEM topics `{prefix}egress.{oem}` (+ `.dlq`), created at
 * start (brokers run with auto.create.topics.enable=false, as locked-down clusters do), the
 * outbox relay (kafka-relay.ts) and one consumer group per OEM (kafka-consumer.ts).
 */
import { Kafka, logLevel, type LogEntry, type Producer } from 'kafkajs';
import type { KafkaQueueConfig } from '../config/schema.js';
import type { Store } from '../store/index.js';
import type { Logger } from '../log.js';
import type { Telemetry } from '../telemetry/index.js';
import { ShekaraError } from '../errors.js';
import type { DeliveryWorker } from './chain.js';
import type { Settler } from './settler.js';
import type { EgressQueue } from './queue.js';
import { startRelay } from './kafka-relay.js';
import { startOemConsumer, type OemConsumer } from './kafka-consumer.js';
import { rememberingPartitioner } from './kafka-partitioner.js';
import { topicOf, dlqTopicOf } from './kafka-topics.js';
import { awaitTopicLeaders } from './kafka-leaders.js';

export interface KafkaQueueOptions {
  readonly kafka: KafkaQueueConfig;
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly leaseMs: number;
}

export async function startKafkaQueue(
  cfg: KafkaQueueOptions,
  deps: {
    oems: readonly string[];
    store: Pick<Store, 'leaseUnpublished' | 'markPublished' | 'outboxStates'>;
    worker: DeliveryWorker;
    settler: Settler;
    log: Logger;
    now: () => number;
    telemetry?: Telemetry;
  },
): Promise<EgressQueue> {
  const k = cfg.kafka;
  const log = deps.log.child({ component: 'kafka' });
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1'; // we pass keys; the default partitioner is the one we want
  const kafka = new Kafka({
    clientId: k.clientId,
    brokers: [...k.brokers],
    connectionTimeout: 3_000,
    requestTimeout: cfg.requestTimeoutMs,
    retry: { initialRetryTime: 200, maxRetryTime: 3_000, retries: 10 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        // kafkajs reports transient states (coordinator moving, broker restarting) as errors; ours
        // are the outcomes that matter, so its own lines go one level down.
        (level <= logLevel.ERROR ? log.warn : log.info).call(
          log,
          { namespace, error: rest.error },
          `kafkajs: ${message}`,
        );
      },
  });

  const admin = kafka.admin();
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: k.maxInFlightRequests,
    // The default partitioner's answers, one hash per vehicle instead of one per message.
    createPartitioner: rememberingPartitioner(),
    // An idempotent producer retries until the broker answers (kafkajs warns if limited).
    retry: { initialRetryTime: 200, maxRetryTime: 3_000, retries: Number.MAX_SAFE_INTEGER },
  });
  const consumers = new Map<string, OemConsumer>();
  /**
   * Creates the OEM's topics if missing, then waits until every partition of them has a leader
   * (kafka-leaders.ts): topics just created, here or by anyone else, are not usable at once.
   */
  const ensureTopics = async (oems: readonly string[]) => {
    const topics = oems.flatMap((oem) => [topicOf(k.topicPrefix, oem), dlqTopicOf(k.topicPrefix, oem)]);
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        // Its wait ends in UNKNOWN_TOPIC_OR_PARTITION on a busy broker; ours below does not.
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: k.partitions,
          replicationFactor: k.replicationFactor,
        })),
      });
    }
    await awaitTopicLeaders(admin, topics, { timeoutMs: k.startTimeoutMs, log });
  };
  const startConsumer = async (oem: string) => {
    consumers.set(
      oem,
      await startOemConsumer(
        {
          groupId: `${k.topicPrefix}egress.${oem}`,
          topic: topicOf(k.topicPrefix, oem),
          dlqTopic: dlqTopicOf(k.topicPrefix, oem),
          concurrency: cfg.concurrency,
          partitions: k.partitions,
          maxWaitTimeMs: k.maxWaitTimeMs,
          sessionTimeoutMs: k.sessionTimeoutMs,
        },
        {
          kafka,
          producer,
          store: deps.store,
          worker: deps.worker,
          settler: deps.settler,
          log,
          telemetry: deps.telemetry,
        },
      ),
    );
  };
  const failure = (cause: unknown) =>
    cause instanceof ShekaraError
      ? cause
      : new ShekaraError('SHK_EGRESS_KAFKA', `Kafka at ${k.brokers.join(', ')}: ${(cause as Error).message}`, {
          cause,
          retriable: true,
        });
  try {
    await admin.connect();
    await ensureTopics(deps.oems);
    await admin.disconnect();
    await producer.connect();
    for (const oem of deps.oems) await startConsumer(oem);
  } catch (cause) {
    await Promise.all([...consumers.values()].map((c) => c.close()));
    await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
    throw failure(cause);
  }
  // One OEM added at a time: two concurrent additions must not both create the same topic.
  let adding: Promise<void> = Promise.resolve();

  const relay = startRelay(
    {
      relayBatchSize: k.relayBatchSize,
      relayLingerMs: k.relayLingerMs,
      pollIntervalMs: cfg.pollIntervalMs,
      requestTimeoutMs: cfg.requestTimeoutMs,
      leaseMs: cfg.leaseMs,
    },
    {
      producer,
      store: deps.store,
      topicOf: (oem) => topicOf(k.topicPrefix, oem),
      log,
      now: deps.now,
      telemetry: deps.telemetry,
    },
  );
  relay.wake(); // rows left pending by an earlier run
  log.info({ brokers: k.brokers, oems: deps.oems }, 'egress: Kafka queue started');

  return {
    kind: 'kafka',
    wake: () => relay.wake(),
    get inFlight() {
      return [...consumers.values()].reduce((n, c) => n + c.inFlight, 0);
    },
    addOem(oem) {
      const run = adding.then(async () => {
        if (consumers.has(oem)) return;
        try {
          await admin.connect();
          await ensureTopics([oem]);
          await admin.disconnect();
          await startConsumer(oem);
        } catch (cause) {
          await admin.disconnect().catch(() => undefined);
          throw failure(cause);
        }
        log.info({ oem }, 'egress: Kafka topics and consumer group started for a new OEM');
      });
      adding = run.catch(() => undefined);
      return run;
    },
    async close() {
      await relay.close();
      await adding;
      await Promise.all([...consumers.values()].map((c) => c.close()));
      await producer.disconnect().catch(() => undefined);
    },
  };
}
