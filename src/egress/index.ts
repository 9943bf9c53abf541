/**
 * The egress module's one door. `createEgress` starts the egress queue the config names — the
 * local durable queue (the store's outbox table; the embedded default) or Apache Kafka — and
 * the delivery workers behind it. Each approved projection is POSTed, signed, to its OEM's one
 * registered endpoint (deny by default), after consent and the destination country are checked
 * again just before sending. Every outcome — delivered, failed attempt, dead letter, blocked —
 * is made durable with its egress-log row. Nothing is dropped silently.
 *
 * Resolves only when the queue is fully started (Kafka: topics exist, consumers joined). OEMs
 * added or changed later (`upsertOem`, from the OEM registry) take effect without a restart.
 */
import type { EgressConfig } from '../config/schema.js';
import type { EgressSettlement, OutboxRow, Store } from '../store/index.js';
import type { Logger } from '../log.js';
import { ATTR, type Telemetry } from '../telemetry/index.js';
import { backoffDelay, isRetriableStatus } from './retry.js';
import { createTransport, type Transport } from './deliver.js';
import { systemResolver, type Resolver } from './destination.js';
import { createBreaker } from './breaker.js';
import { createDeliveryWorker, type OemDestination, type OemRoute } from './worker.js';
import { createSettler } from './settler.js';
import { startLocalQueue } from './local-queue.js';
import type * as KafkaQueue from './kafka-queue.js';
import { createSigningKeyring, loadSigningKey, type SigningKeyring } from './sign.js';
import type { EgressQueue } from './queue.js';
import { createBacklogGate } from './backlog.js';

/**
 * The Kafka queue, imported when a config asks for it: kafkajs is about 0.15 CPU-s of every
 * start, paid in the main thread and again in the egress thread (test/cli/cli-imports.test.ts).
 */
const startKafkaQueue: typeof KafkaQueue.startKafkaQueue = async (...args) =>
  (await import('./kafka-queue.js')).startKafkaQueue(...args);

export { backoffDelay, isRetriableStatus };
export { verifySignature, exportSigningKey, SIGNATURE_HEADER, type SigningKeyring } from './sign.js';
export { topicOf, dlqTopicOf } from './kafka-topics.js';
export type { Resolver } from './destination.js';
export type { Transport, DeliveryResult } from './deliver.js';
export type { OemDestination } from './worker.js';
export { BATCH_CONTENT_TYPE, type BatchConfig } from './batch.js';
export { DISABLED_RECHECK_MS } from './worker.js';

export interface EgressDeps {
  readonly store: Pick<
    Store,
    | 'dueOutboxHeads'
    | 'leaseDueOutbox'
    | 'nextDueAt'
    | 'leaseUnpublished'
    | 'markPublished'
    | 'outboxStates'
    | 'outboxBacklog'
    | 'outboxBacklogByOem'
    | 'settleOutbox'
    | 'getSecret'
    | 'putSecretIfAbsent'
    | 'listSigningKeys'
    | 'rotateSigningKey'
  >;
  /** The OEMs and their one destination each (the OEM registry at start). */
  readonly oems: readonly OemDestination[];
  /** Consent (and objection) re-check just before sending; false or a reason → the row is blocked and logged, never sent. */
  readonly isStillAllowed: (row: OutboxRow) => Promise<boolean | string>;
  readonly log: Logger;
  readonly now?: () => number;
  /** Host → addresses (default: the system resolver). Tests map names to addresses here. */
  readonly resolve?: Resolver;
  /** Replaces the HTTP transport (tests that must prove no connection was attempted). */
  readonly transport?: Transport;
  /**
   * Other instances may share this store (PostgreSQL): the local queue then leases outbox rows
   * in the store rather than in memory, so no row is sent by two instances at once.
   */
  readonly sharedStore?: boolean;
  /** Spans (produce, consume, deliver) and delivery metrics (src/telemetry); off when absent. */
  readonly telemetry?: Telemetry;
}

export interface Egress {
  readonly queue: EgressQueue['kind'];
  /**
   * Where deliveries run: this thread (`main`), a worker thread of this process apart from the
   * ingest event loop (`thread`), or not in this process (`none`: `--role ingest`).
   */
  readonly runsIn: 'main' | 'thread' | 'none';
  /** New rows are due: look now rather than at the next poll. */
  wake(): void;
  readonly inFlight: number;
  /**
   * True while more than `maxBacklog` outbox rows wait to be handed on (as of the latest count,
   * taken at most every 100 ms), or while some OEM's oldest undelivered row is older than
   * `maxBacklogAgeSeconds` (read at most every `backlog.checkEveryMs`). Ingest MUST then push
   * back (PUBACK withheld, HTTP 503) rather than accept without bound. Synchronous and cheap:
   * it is asked per submitted record.
   */
  readonly saturated: boolean;
  /**
   * Adds an OEM or applies a change to one (endpoint, allowed countries, mTLS, signing key, enabled),
   * effective for the next delivery: in Kafka mode a new OEM's topics and consumer group exist
   * before this resolves. The signing key is read again (file or local secrets), so a rotated
   * key is picked up by calling this. Unchanged definitions change nothing.
   */
  upsertOem(oem: OemDestination): Promise<void>;
  /** The active policies changed: deliveries apart from this thread get the new send-time rules. */
  policyChanged(): void;
  /**
   * Makes one outcome durable through the workers' own group commit (the pull feed's deliveries
   * and blocks, so they reach the egress log exactly as pushed ones do). Resolves once durable.
   */
  settle(item: EgressSettlement): Promise<void>;
  /** Every OEM's webhook signing keys, and their rotation. */
  readonly signing: SigningKeyring;
  /** Stops taking new messages and waits (bounded) for deliveries in flight. */
  close(): Promise<void>;
}

export async function createEgress(cfg: EgressConfig, deps: EgressDeps): Promise<Egress> {
  const log = deps.log.child({ module: 'egress' });
  const now = deps.now ?? Date.now;
  type Route = OemRoute & { readonly signingKey: Buffer; readonly close?: () => Promise<void> };
  const routes = new Map<string, Route>();
  // The transport asks the keyring for the keys at each send, so a rotation needs no new transport.
  const signing = await createSigningKeyring(deps.oems, deps.store, { log });
  const postCounters = (oem: string) => {
    const metrics = deps.telemetry?.metrics;
    const labels = { [ATTR.oem]: oem };
    return (
      metrics && {
        inFlight: (d: number) => metrics.egressPostsInFlight.add(d, labels),
        waiting: (d: number) => metrics.egressPostsWaiting.add(d, labels),
      }
    );
  };
  const buildRoute = async (oem: OemDestination, old: Route | undefined): Promise<Route> => {
    const signingKey = await loadSigningKey(oem, deps.store);
    const sameTransport =
      old &&
      JSON.stringify([old.oem.mtls ?? null, old.oem.batch ?? null]) ===
        JSON.stringify([oem.mtls ?? null, oem.batch ?? null]);
    let transport = deps.transport;
    let close: (() => Promise<void>) | undefined;
    if (sameTransport) ({ transport, close } = old);
    else if (!transport) {
      const t = createTransport({
        timeoutMs: cfg.requestTimeoutMs,
        signingKeys: (at) => signing.keysFor(oem.id, at),
        mtls: oem.mtls,
        retriableStatus: isRetriableStatus,
        now,
        batch: oem.batch,
        posts: postCounters(oem.id),
      });
      transport = t;
      close = t.close;
    }
    // A new endpoint is a new destination: its availability is measured afresh.
    const breaker = old && old.oem.endpoint === oem.endpoint ? old.breaker : createBreaker(cfg.breaker);
    return { oem: { ...oem }, endpoint: new URL(oem.endpoint), transport: transport!, breaker, signingKey, close };
  };
  for (const oem of deps.oems) routes.set(oem.id, await buildRoute(oem, undefined));
  const { telemetry } = deps;
  const worker = createDeliveryWorker(cfg, {
    routes,
    isStillAllowed: deps.isStillAllowed,
    resolve: deps.resolve ?? systemResolver,
    now,
    telemetry,
  });
  const settler = createSettler(deps.store);
  // A vehicle's rows taken at once by the local queue: as many as the largest batch carries.
  const perVehicle = () => {
    let n = 1;
    for (const r of routes.values()) if (r.oem.batch && r.oem.batch.maxRecords > n) n = r.oem.batch.maxRecords;
    return n;
  };

  const queue: EgressQueue =
    cfg.queue.kind === 'kafka'
      ? await startKafkaQueue(
          {
            kafka: cfg.queue.kafka,
            concurrency: cfg.concurrency,
            pollIntervalMs: cfg.pollIntervalMs,
            requestTimeoutMs: cfg.requestTimeoutMs,
            leaseMs: cfg.leaseMs,
          },
          { oems: deps.oems.map((o) => o.id), store: deps.store, worker, settler, log, now, telemetry },
        )
      : startLocalQueue(cfg, {
          store: deps.store,
          worker,
          settler,
          log,
          now,
          telemetry,
          sharedOutbox: deps.sharedStore === true,
          perVehicle,
        });

  const sameDefinition = (a: OemDestination, b: OemDestination) =>
    JSON.stringify([
      a.endpoint,
      a.allowedCountries,
      a.allowPrivateNetworks,
      a.signingKeyFile ?? null,
      a.mtls ?? null,
      a.enabled !== false,
      a.batch ?? null,
    ]) ===
    JSON.stringify([
      b.endpoint,
      b.allowedCountries,
      b.allowPrivateNetworks,
      b.signingKeyFile ?? null,
      b.mtls ?? null,
      b.enabled !== false,
      b.batch ?? null,
    ]);

  const backlog = await createBacklogGate(deps.store, cfg, { log, now });
  return {
    queue: queue.kind,
    runsIn: 'main',
    wake: () => queue.wake(),
    get inFlight() {
      return queue.inFlight;
    },
    get saturated() {
      return backlog.saturated;
    },
    // The send-time checks read the live policy engine in this thread.
    policyChanged: () => undefined,
    async upsertOem(given) {
      const old = routes.get(given.id);
      // The delivery mode and trace propagation come from the config only (the registry does not
      // hold them yet): a change from the registry keeps what the OEM runs with, so a pull OEM is
      // never pushed to and an opted-in OEM keeps its traceparent header.
      const oem: OemDestination = {
        ...given,
        delivery: given.delivery ?? old?.oem.delivery ?? 'push',
        propagateTraceContext: given.propagateTraceContext ?? old?.oem.propagateTraceContext ?? false,
        batch: given.batch ?? old?.oem.batch,
      };
      const route = await buildRoute(oem, old); // reads the key and mTLS files: throws before anything changes
      await signing.upsert(oem);
      if (old && sameDefinition(old.oem, oem) && old.signingKey.equals(route.signingKey)) return;
      if (!old) {
        try {
          await queue.addOem(oem.id);
        } catch (err) {
          await route.close?.();
          throw err;
        }
      }
      routes.set(oem.id, route);
      // Requests in flight on the old pool finish; undici closes it once they have.
      if (old?.close && old.close !== route.close) void old.close().catch(() => undefined);
      log.info(
        { oem: oem.id, endpoint: oem.endpoint, enabled: oem.enabled !== false },
        old ? 'egress: OEM changed' : 'egress: OEM added',
      );
      if (oem.enabled !== false) queue.wake();
    },
    settle: (item) => settler.settle(item),
    signing,
    async close() {
      signing.close();
      await queue.close();
      await Promise.all([...routes.values()].map((r) => r.close?.()));
    },
  };
}
