/**
 * The egress workers in Kafka mode: one consumer group per OEM, consuming fetched batches
 * (`eachBatch`). Each partition is consumed in order; a fetched batch is split by message key
 * (the vehicle pseudonym) into chains, the rows' states are read in ONE store query, and the
 * chains go to the delivery worker (up to `concurrency` at once), each whole (chain.ts
 * `chain`), so an OEM with batched push (`oems[].batch`, batch.ts) gets a backlogged vehicle's
 * messages `maxRecords` at a time, in order, and several vehicles' in one POST. A failed
 * delivery is retried in place after a backoff, holding back the vehicle's later messages
 * (order kept), which go again with it.
 *
 * Contract: an offset MUST be committed only after the outcome of every message below it is
 * durable in the store (settler resolved). A message whose row the store has already settled
 * (a redelivery after a crash or rebalance) is skipped, not sent again. After maxAttempts a
 * message is copied to the OEM's dead-letter topic (acks=all) and then settled as dead.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { OutboxRow, Store } from '../store/index.js';
import type { Logger } from '../log.js';
import { chainOf, type ChainWorker, type DeliveryWorker } from './chain.js';
import type { Span } from '@opentelemetry/api';
import type { Settler } from './settler.js';
import { HEADER_OUTBOX_ID, HEADER_TRACEPARENT, fromMessage } from './kafka-relay.js';
import { ATTR, contextOf, disabledTelemetry, type Telemetry } from '../telemetry/index.js';
import { failSpan, logOutcome, startConsumeSpan } from './spans.js';

export interface OemConsumerConfig {
  readonly groupId: string;
  readonly topic: string;
  readonly dlqTopic: string;
  readonly concurrency: number;
  readonly partitions: number;
  readonly maxWaitTimeMs: number;
  readonly sessionTimeoutMs: number;
}

export interface OemConsumer {
  readonly inFlight: number;
  close(): Promise<void>;
}

const idOf = (m: KafkaMessage) => Number(m.headers?.[HEADER_OUTBOX_ID]?.toString());

export async function startOemConsumer(
  cfg: OemConsumerConfig,
  deps: {
    kafka: Kafka;
    producer: Producer;
    store: Pick<Store, 'outboxStates'>;
    worker: DeliveryWorker;
    settler: Settler;
    log: Logger;
    telemetry?: Telemetry;
  },
): Promise<OemConsumer> {
  const { log } = deps;
  const { tracing } = deps.telemetry ?? disabledTelemetry();
  const run = chainOf(deps.worker);
  let closing = false;
  let inFlight = 0;
  const wakers = new Set<() => void>();
  /** A sleep that ends early when the consumer closes or its batch goes stale. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      wakers.add(done);
    });

  const consumer: Consumer = deps.kafka.consumer({
    groupId: cfg.groupId,
    maxWaitTimeInMs: cfg.maxWaitTimeMs,
    sessionTimeout: cfg.sessionTimeoutMs,
    heartbeatInterval: Math.floor(cfg.sessionTimeoutMs / 5),
  });
  await consumer.connect();
  await consumer.subscribe({ topic: cfg.topic, fromBeginning: true });

  /**
   * Delivers one vehicle's messages of a fetched batch (in offset order; retrying in place).
   * They go to the worker together, as a chain (chain.ts: as few POSTs as the OEM's
   * batch allows, in order); a message not delivered holds back the ones behind it, which are
   * sent again with it after the backoff. `settledAt(m, durable)` is called once per message
   * whose outcome is final, with the promise of that outcome being durable (a message already
   * settled in the store: at once, resolved). Returns false when abandoned.
   * A delivered or blocked outcome is not awaited here: the vehicle's next messages may go while
   * the commit is under way (order of delivery is what the OEM sees), and eachBatch awaits every
   * outcome before it resolves any offset.
   */
  async function handleChain(
    msgs: readonly KafkaMessage[],
    partition: number,
    abandoned: () => boolean,
    states: Awaited<ReturnType<Store['outboxStates']>>,
    settledAt: (m: KafkaMessage, durable: Promise<void>) => void,
  ): Promise<boolean> {
    type Item = { readonly m: KafkaMessage; row: OutboxRow; readonly span: Span };
    let pending: Item[] = [];
    for (const m of msgs) {
      const id = idOf(m);
      // Read when the batch was fetched: a row settled since by someone else is settled again
      // harmlessly (the store logs a settled row's outcome once), only its POST is repeated. A
      // second copy of a row in the same batch (published twice by a relay that crashed before
      // marking it) is skipped: the first copy is this one.
      const state = states.get(id);
      states.delete(id);
      if (!state || (state.status !== 'pending' && state.status !== 'published')) {
        settledAt(m, Promise.resolve());
        continue;
      }
      const traceParent = m.headers?.[HEADER_TRACEPARENT]?.toString() ?? null;
      const row: OutboxRow = {
        ...fromMessage(m),
        id,
        attempts: state.attempts,
        traceParent,
      };
      // The trace continues from the produce span whose context the relay put in the headers.
      const span = startConsumeSpan(tracing, row, tracing.parentFrom(traceParent), {
        [ATTR.messagingSystem]: 'kafka',
        [ATTR.messagingOperation]: 'process',
        [ATTR.messagingDestination]: cfg.topic,
        [ATTR.messagingPartition]: String(partition),
        [ATTR.queue]: 'kafka',
      });
      pending.push({ m, row, span });
    }
    try {
      while (pending.length > 0) {
        if (abandoned()) {
          for (const p of pending) p.span.end();
          return false;
        }
        // In flight: the attempt itself. A message waiting out a backoff (or a disabled OEM) is not.
        inFlight += pending.length;
        let outcomes: Awaited<ReturnType<ChainWorker>>;
        try {
          outcomes = await run(
            pending.map((p) => p.row),
            pending.map((p) => contextOf(p.span)),
          );
        } finally {
          inFlight -= pending.length;
        }
        const again: Item[] = [];
        let waitMs: number | undefined;
        for (let i = 0; i < pending.length; i++) {
          const p = pending[i]!;
          const outcome = outcomes[i];
          // Held back behind a message not delivered: sent again with it, in order.
          if (!outcome) {
            again.push(p);
            continue;
          }
          if (outcome.kind === 'deferred') {
            waitMs ??= outcome.retryInMs ?? 100;
            again.push(p);
            continue;
          }
          if (outcome.kind === 'dead') {
            await deps.producer.send({
              topic: cfg.dlqTopic,
              acks: -1,
              messages: [
                {
                  key: p.m.key,
                  value: p.m.value,
                  headers: {
                    ...p.m.headers,
                    'shekara-error': outcome.entry.error ?? '',
                    'shekara-attempts': String(outcome.entry.attempt),
                  },
                },
              ],
            });
          }
          const durable = deps.settler.settle(outcome);
          if (outcome.kind === 'delivered') {
            void durable.then(
              () => p.span.end(),
              (err: unknown) => failSpan(p.span, err),
            );
            settledAt(p.m, durable);
            continue;
          }
          if (outcome.kind === 'failed') {
            await durable;
            logOutcome(log, p.row, outcome, p.span);
            waitMs ??= outcome.retryInMs ?? 100;
            p.row = { ...p.row, attempts: p.row.attempts + 1 };
            again.push(p);
            continue;
          }
          settledAt(p.m, durable);
          await durable;
          logOutcome(log, p.row, outcome, p.span);
          p.span.end();
        }
        pending = again;
        if (pending.length > 0) await pause(waitMs ?? 100);
      }
      return true;
    } catch (err) {
      for (const p of pending) failSpan(p.span, err);
      throw err;
    }
  }

  async function eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const abandoned = () => closing || !isRunning() || isStale();
    // One read for the whole batch, not one per message.
    const states = await deps.store.outboxStates(batch.messages.map(idOf));
    const chains = new Map<string, KafkaMessage[]>();
    for (const m of batch.messages) {
      const key = m.key?.toString('utf8') ?? '';
      let c = chains.get(key);
      if (!c) chains.set(key, (c = []));
      c.push(m);
    }
    const settled = new Set<string>();
    const durable: Promise<void>[] = [];
    const beat = setInterval(() => {
      heartbeat().catch(() => undefined);
      if (abandoned()) wakers.forEach((w) => w());
    }, 1_000);
    try {
      const queue = [...chains.values()];
      const lane = async () => {
        for (let chain = queue.shift(); chain; chain = queue.shift()) {
          const ok = await handleChain(chain, batch.partition, abandoned, states, (m, d) =>
            durable.push(
              d.then(() => {
                settled.add(m.offset);
              }),
            ),
          );
          if (!ok) return;
        }
      };
      await Promise.all(Array.from({ length: Math.min(cfg.concurrency, queue.length) }, lane));
    } finally {
      clearInterval(beat);
      const results = await Promise.allSettled(durable);
      // Resolve only the prefix of the batch whose outcomes are all durable.
      let last: string | undefined;
      for (const m of batch.messages) {
        if (!settled.has(m.offset)) break;
        last = m.offset;
      }
      if (last !== undefined) resolveOffset(last);
      // A store failure: the batch is fetched again from the last resolved offset.
      const failed = results.find((r) => r.status === 'rejected');
      // Thrown from finally on purpose: a store failure must reach kafkajs even when the lanes
      // ended cleanly, so the batch is fetched again.
      // eslint-disable-next-line no-unsafe-finally
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    await commitOffsetsIfNecessary();
  }

  await consumer.run({
    autoCommit: true,
    autoCommitInterval: 1_000,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: cfg.partitions,
    eachBatch,
  });
  consumer.on(consumer.events.CRASH, (e) =>
    log.warn({ error: e.payload.error?.message, restart: e.payload.restart }, 'egress consumer crashed'),
  );

  return {
    get inFlight() {
      return inFlight;
    },
    async close() {
      closing = true;
      wakers.forEach((w) => w());
      await consumer.disconnect().catch((err) => log.warn({ err }, 'egress consumer: disconnect failed'));
    },
  };
}
