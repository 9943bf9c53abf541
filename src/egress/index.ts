/**
 * The egress module's one door. `createEgress` starts the egress queue the config names — the
 * local durable queue (the store's outbox table; the embedded default) or Apache Kafka — and
 * the delivery workers behind it. Each approved projection is POSTed, signed, to its OEM's one
 * configured endpoint (deny by default), after consent and the destination country are checked
 * again just before sending. Every outcome — delivered, failed attempt, dead letter, blocked —
 * is made durable with its egress-log row. Nothing is dropped silently.
 *
 * Resolves only when the queue is fully started (Kafka: topics exist, consumers joined).
 */
import type { EgressConfig, OemConfig } from '../config/schema.js';
import type { OutboxRow, Store } from '../store/index.js';
import type { Logger } from '../log.js';
import { backoffDelay, isRetriableStatus } from './retry.js';
import { createTransport, type Transport } from './deliver.js';
import { systemResolver, type Resolver } from './destination.js';
import { createBreaker } from './breaker.js';
import { createDeliveryWorker, type OemRoute } from './worker.js';
import { createSettler } from './settler.js';
import { startLocalQueue } from './local-queue.js';
import { startKafkaQueue } from './kafka-queue.js';
import { loadSigningKey } from './sign.js';
import type { EgressQueue } from './queue.js';

export { backoffDelay, isRetriableStatus };
export { verifySignature, exportSigningKey, SIGNATURE_HEADER } from './sign.js';
export { topicOf, dlqTopicOf } from './kafka-queue.js';
export type { Resolver } from './destination.js';
export type { Transport, DeliveryResult } from './deliver.js';

export interface EgressDeps {
  readonly store: Pick<Store,
    'dueOutboxHeads' | 'nextDueAt' | 'leaseUnpublished' | 'markPublished' | 'outboxState' | 'outboxBacklog' | 'settleOutbox' | 'getSecret' | 'putSecretIfAbsent'>;
  /** The OEMs and their one destination each. */
  readonly oems: readonly OemConfig[];
  /** Consent (and objection) re-check just before sending; false or a reason → the row is blocked and logged, never sent. */
  readonly isStillAllowed: (row: OutboxRow) => boolean | string;
  readonly log: Logger;
  readonly now?: () => number;
  /** Host → addresses (default: the system resolver). Tests map names to addresses here. */
  readonly resolve?: Resolver;
  /** Replaces the HTTP transport (tests that must prove no connection was attempted). */
  readonly transport?: Transport;
}

export interface Egress {
  readonly queue: EgressQueue['kind'];
  /** New rows are due: look now rather than at the next poll. */
  wake(): void;
  readonly inFlight: number;
  /**
   * True while more than `maxBacklog` outbox rows wait to be handed on. Ingest MUST then push
   * back (PUBACK withheld, HTTP 503) rather than accept without bound.
   */
  readonly saturated: boolean;
  /** Stops taking new messages and waits (bounded) for deliveries in flight. */
  close(): Promise<void>;
}

export async function createEgress(cfg: EgressConfig, deps: EgressDeps): Promise<Egress> {
  const log = deps.log.child({ module: 'egress' });
  const now = deps.now ?? Date.now;
  const transports: (Transport & { close(): Promise<void> })[] = [];
  const routes = new Map<string, OemRoute>();
  for (const oem of deps.oems) {
    let transport = deps.transport;
    if (!transport) {
      const t = createTransport({
        timeoutMs: cfg.requestTimeoutMs, signingKey: loadSigningKey(oem, deps.store), mtls: oem.mtls, retriableStatus: isRetriableStatus, now,
      });
      transports.push(t);
      transport = t;
    }
    routes.set(oem.id, { oem, endpoint: new URL(oem.endpoint), transport, breaker: createBreaker(cfg.breaker) });
  }
  const worker = createDeliveryWorker(cfg, { routes, isStillAllowed: deps.isStillAllowed, resolve: deps.resolve ?? systemResolver, now });
  const settler = createSettler(deps.store);

  const queue: EgressQueue = cfg.queue.kind === 'kafka'
    ? await startKafkaQueue(
      { kafka: cfg.queue.kafka, concurrency: cfg.concurrency, pollIntervalMs: cfg.pollIntervalMs, requestTimeoutMs: cfg.requestTimeoutMs },
      { oems: deps.oems.map((o) => o.id), store: deps.store, worker, settler, log, now },
    )
    : startLocalQueue(cfg, { store: deps.store, worker, settler, log, now });

  let backlogAt = -Infinity;
  let saturated = false;
  return {
    queue: queue.kind,
    wake: () => queue.wake(),
    get inFlight() { return queue.inFlight; },
    get saturated() {
      // A COUNT over the pending rows' index, at most every 100 ms.
      const t = now();
      if (t - backlogAt >= 100) {
        backlogAt = t;
        saturated = deps.store.outboxBacklog() >= cfg.maxBacklog;
      }
      return saturated;
    },
    async close() {
      await queue.close();
      await Promise.all(transports.map((t) => t.close()));
    },
  };
}
