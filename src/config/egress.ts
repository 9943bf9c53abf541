/**
 * The config sections of pseudonymization and the egress queue and worker (the door: ./schema.ts, which composes `ConfigSchema`).
 */
import { Type } from '@sinclair/typebox';
import { strict } from './common.js';

export const PseudonymSchema = Type.Object(
  {
    /** Pseudonyms are stable within an epoch and unlinkable across epochs. */
    epochDays: Type.Integer({ minimum: 1, maximum: 366, default: 30 }),
  },
  { ...strict, default: {} },
);

/** The egress queue: the outbox table itself (embedded default) or Apache Kafka. */
export const KafkaQueueSchema = Type.Object(
  {
    brokers: Type.Array(Type.String({ pattern: '^[^\\s:]+:\\d+$' }), { minItems: 1, default: ['127.0.0.1:19092'] }),
    clientId: Type.String({ minLength: 1, default: 'shekara' }),
    /** Topics are `{topicPrefix}egress.{oem}` and `{topicPrefix}egress.{oem}.dlq`; created at start. */
    topicPrefix: Type.String({ pattern: '^[A-Za-z0-9._-]*$', default: 'shekara.' }),
    partitions: Type.Integer({ minimum: 1, maximum: 1_000, default: 6 }),
    replicationFactor: Type.Integer({ minimum: 1, maximum: 7, default: 1 }),
    /** Outbox rows per producer request, and how long the relay waits to fill one. */
    relayBatchSize: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
    relayLingerMs: Type.Integer({ minimum: 0, maximum: 1_000, default: 5 }),
    /** Unacknowledged produce requests per broker connection (<= 5 keeps order with idempotence, KIP-98). */
    maxInFlightRequests: Type.Integer({ minimum: 1, maximum: 5, default: 1 }),
    /** Upper bound on a consumer fetch wait; also bounds how long close() waits for a fetch. */
    maxWaitTimeMs: Type.Integer({ minimum: 10, maximum: 10_000, default: 200 }),
    /**
     * Consumer group session: a crashed gateway's partitions move to another member after this.
     * The broker bounds it (group.min.session.timeout.ms, 6 s by default).
     */
    sessionTimeoutMs: Type.Integer({ minimum: 6_000, maximum: 300_000, default: 10_000 }),
    /**
     * How long start (or an OEM added at run time) waits for its topics' partitions to have
     * leaders: a topic just created is not usable at once. Then SHK_EGRESS_KAFKA names them.
     */
    startTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
  },
  { ...strict, default: {} },
);

export const EgressQueueSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('local'), Type.Literal('kafka')], { default: 'local' }),
    kafka: KafkaQueueSchema,
  },
  { ...strict, default: {} },
);

export const EgressSchema = Type.Object(
  {
    /**
     * Deliveries in flight at once. An OEM abroad is ~100-300 ms away, so deliveries/s is about
     * concurrency / round-trip time: 8 would cap a distant OEM near 40/s.
     */
    concurrency: Type.Integer({ minimum: 1, maximum: 1024, default: 64 }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
    initialBackoffMs: Type.Integer({ minimum: 1, default: 500 }),
    maxBackoffMs: Type.Integer({ minimum: 1, default: 60_000 }),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
    /**
     * How long an instance holds the outbox rows it took (the local queue on a shared store, the
     * Kafka relay): a crashed instance's rows are due again after this. Never less than
     * 3 × requestTimeoutMs, so a live instance's delivery and its settle finish inside it.
     */
    leaseMs: Type.Integer({ minimum: 1_000, default: 30_000 }),
    /** Idle poll of the outbox; new records wake the worker at once. */
    pollIntervalMs: Type.Integer({ minimum: 10, default: 1_000 }),
    /** Outbox rows not yet handed on above which ingest is pushed back (PUBACK withheld, HTTP 503). */
    maxBacklog: Type.Integer({ minimum: 1, default: 100_000 }),
    /**
     * The age bound beside that count: ingest is pushed back too while, for any OEM, the oldest
     * row not yet delivered arrived more than this many seconds ago (read every
     * `backlog.checkEveryMs`). The count alone lets that age run to maxBacklog / delivery rate:
     * ~100 s at 1,000 deliveries/s, ~40 min for a distant OEM at 40/s. 120 s is above what one
     * row's own retries hold it with the default schedule (seven waits of at most 0.5…32 s,
     * <= 63.5 s, plus the refused requests), so a single unlucky row does not slow every car;
     * a queue that is behind does. 0 turns it off (the count bound alone), for a deployment that
     * would rather store through a long OEM outage than slow its cars.
     */
    maxBacklogAgeSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 120 }),
    /** Per-OEM circuit breaker: opens after this many consecutive retriable failures, for openMs. */
    breaker: Type.Object(
      {
        failureThreshold: Type.Integer({ minimum: 1, default: 5 }),
        openMs: Type.Integer({ minimum: 10, default: 5_000 }),
      },
      { ...strict, default: {} },
    ),
    queue: EgressQueueSchema,
    /**
     * Deliveries run in a worker thread of their own (own event loop, own store connection), so
     * ingest at full load cannot starve them. false: in the main thread (one core, small loads).
     * An in-memory SQLite store (`:memory:`) cannot be shared with a thread: main thread then.
     */
    thread: Type.Boolean({ default: true }),
    /**
     * Backlog per OEM (metrics shekara.egress.outbox.depth / .oldest_age), read every
     * `checkEveryMs`; one warning per reading names the OEMs whose oldest row waits longer than
     * `warnAgeSeconds`. The warning comes before the pushback it announces: with the age bound
     * on, warnAgeSeconds must be below maxBacklogAgeSeconds (checked at load). 90 s is above
     * one row's own retries (<= 63.5 s) and leaves the default bound's 120 s six readings later.
     */
    backlog: Type.Object(
      {
        warnAgeSeconds: Type.Integer({ minimum: 1, default: 90 }),
        checkEveryMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 5_000 }),
      },
      { ...strict, default: {} },
    ),
  },
  { ...strict, default: {} },
);
