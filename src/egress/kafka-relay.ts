/**
 * The outbox relay: publishes outbox rows to the OEM's Kafka topic, then marks them published.
 * Idempotent producer with acks=all (KIP-98: with idempotence and at most 5 requests in flight
 * the broker keeps each partition in send order, without duplicates from producer retries);
 * message key = vehicle pseudonym, so one vehicle's records stay in one partition, in order.
 * Batches are bounded by size (relayBatchSize rows) and time (relayLingerMs).
 *
 * In flight, bounded: ONE produce request (a batch, every partition's messages in it) — a second
 * one could overtake the first when the first is retried, and a vehicle's records would reach
 * Kafka out of order; while it is on the wire, the next full batch is leased from the store
 * (one lease ahead), and the marks of batches already acknowledged are written behind it (at
 * most MAX_MARKS_IN_FLIGHT), so the store's round trips and Kafka's overlap instead of adding up.
 *
 * Contract: a row MUST be marked published only after the broker acknowledged it (acks=all).
 * A crash between the acknowledgement and the mark publishes it again: at-least-once, same
 * record id in the header, and the consumer skips a row the store already settled.
 */
import type { KafkaMessage, Producer, Message } from 'kafkajs';
import type { OutboxRow, Store } from '../store/index.js';
import type { Logger } from '../log.js';
import { backoffDelay } from './retry.js';
import { SpanKind, type Span } from '@opentelemetry/api';
import { ATTR, SPAN, disabledTelemetry, traceParentOf, type Telemetry } from '../telemetry/index.js';
import { failSpan } from './spans.js';
import { outboxLeaseMs } from './queue.js';

export const HEADER_RECORD_ID = 'shekara-record-id';

/** Acknowledged batches whose `published` mark may still be on its way to the store. */
export const MAX_MARKS_IN_FLIGHT = 4;
export const HEADER_OUTBOX_ID = 'shekara-outbox-id';

/** W3C Trace Context in Kafka headers, as OpenTelemetry's messaging conventions carry it. */
export const HEADER_TRACEPARENT = 'traceparent';
export const HEADER_PURPOSE = 'shekara-purpose';

/** What a message carries of its row: all the worker needs but the attempt count and the traceparent (the store's, a header). */
export type QueuedRow = Omit<OutboxRow, 'id' | 'attempts' | 'traceParent'>;

/** The row's facts that neither the key (pseudonym) nor a header (outbox id, record id, purpose) carries. */
type MessageFacts = Pick<OutboxRow, 'oem' | 'deliveryId' | 'policyHash' | 'fieldsSent' | 'fieldsDropped'>;

const LINE_BREAK = 0x0a;

/**
 * A row as a message: key the vehicle pseudonym; headers the outbox id, record id, purpose (and
 * `traceParent`: the produce span's, so the consumer continues the trace from it); value the
 * other facts as one line of JSON, a line break, then the body as stored, byte for byte (not a
 * JSON string inside JSON: no escaping, no second parse). Nothing is carried twice.
 */
export function toMessage(row: OutboxRow, traceParent: string | null = null): Message {
  const facts: MessageFacts = {
    oem: row.oem,
    deliveryId: row.deliveryId,
    policyHash: row.policyHash,
    fieldsSent: row.fieldsSent,
    fieldsDropped: row.fieldsDropped,
  };
  const headers: Record<string, string> = {
    [HEADER_RECORD_ID]: row.recordId,
    [HEADER_OUTBOX_ID]: String(row.id),
    [HEADER_PURPOSE]: row.purpose,
  };
  if (traceParent) headers[HEADER_TRACEPARENT] = traceParent;
  return { key: row.pseudonym, value: `${JSON.stringify(facts)}\n${row.body}`, headers };
}

/**
 * The row a message carries, whichever build produced it. A consumer MUST read the messages
 * already in a topic: a value without a line break is the previous builds' (the whole row as one
 * JSON object, which JSON.stringify writes without one); with one, the facts line and the body.
 */
export function fromMessage(m: Pick<KafkaMessage, 'key' | 'value' | 'headers'>): QueuedRow {
  const value = m.value!;
  const cut = value.indexOf(LINE_BREAK);
  if (cut < 0) {
    const { id: _id, ...row } = JSON.parse(value.toString('utf8')) as QueuedRow & { id?: number };
    return row;
  }
  const facts = JSON.parse(value.toString('utf8', 0, cut)) as MessageFacts;
  return {
    recordId: m.headers![HEADER_RECORD_ID]!.toString(),
    deliveryId: facts.deliveryId,
    oem: facts.oem,
    purpose: m.headers![HEADER_PURPOSE]!.toString(),
    policyHash: facts.policyHash,
    pseudonym: m.key!.toString('utf8'),
    fieldsSent: facts.fieldsSent,
    fieldsDropped: facts.fieldsDropped,
    body: value.toString('utf8', cut + 1),
  };
}

export interface RelayConfig {
  readonly relayBatchSize: number;
  readonly relayLingerMs: number;
  readonly pollIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly leaseMs: number;
}

export interface Relay {
  wake(): void;
  close(): Promise<void>;
}

export function startRelay(
  cfg: RelayConfig,
  deps: {
    producer: Producer;
    store: Pick<Store, 'leaseUnpublished' | 'markPublished'>;
    topicOf: (oem: string) => string;
    log: Logger;
    now: () => number;
    telemetry?: Telemetry;
  },
): Relay {
  const { log, now } = deps;
  const { tracing } = deps.telemetry ?? disabledTelemetry();
  const leaseMs = outboxLeaseMs(cfg);
  let closing = false;
  let woken: (() => void) | undefined;
  let wakeFlag = false;
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      if (wakeFlag || closing) {
        wakeFlag = false;
        return resolve();
      }
      const t = setTimeout(() => {
        woken = undefined;
        resolve();
      }, ms);
      woken = () => {
        clearTimeout(t);
        woken = undefined;
        wakeFlag = false;
        resolve();
      };
    });
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

  const marks = new Set<Promise<void>>();
  /**
   * Marks an acknowledged batch published, behind the next produce. A mark that fails leaves the
   * rows pending: their lease ends and they are published again (at-least-once, same ids).
   */
  function mark(ids: number[]): void {
    const p: Promise<void> = deps.store
      .markPublished(ids)
      .catch((err: unknown) =>
        log.warn({ err, rows: ids.length }, 'egress relay: could not mark rows published; they are published again'),
      )
      .finally(() => marks.delete(p));
    marks.add(p);
  }

  async function publish(rows: OutboxRow[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    // One produce span per row (a child of the commit that wrote it), ended when the broker acknowledged.
    const spans: Span[] = [];
    for (const row of rows) {
      const topic = deps.topicOf(row.oem);
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      const span = tracing.tracer.startSpan(
        SPAN.produce,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            [ATTR.messagingSystem]: 'kafka',
            [ATTR.messagingOperation]: 'send',
            [ATTR.messagingDestination]: topic,
            [ATTR.messagingBatchCount]: rows.length,
            [ATTR.recordId]: row.recordId,
            [ATTR.oem]: row.oem,
            [ATTR.purpose]: row.purpose,
            [ATTR.outboxId]: row.id,
          },
        },
        tracing.parentFrom(row.traceParent),
      );
      spans.push(span);
      list.push(toMessage(row, traceParentOf(span)));
    }
    let open = true;
    const endSpans = (err?: unknown) => {
      if (!open) return;
      open = false;
      for (const span of spans)
        if (err === undefined) span.end();
        else failSpan(span, err);
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.producer.sendBatch({
          acks: -1,
          timeout: cfg.requestTimeoutMs,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        endSpans();
        mark(rows.map((r) => r.id));
        return;
      } catch (err) {
        if (closing) {
          endSpans(err);
          return; // the rows stay pending; the next start publishes them
        }
        const delay = backoffDelay(attempt, { initialBackoffMs: 200, maxBackoffMs: 5_000 });
        log.warn(
          { err: (err as Error).message, rows: rows.length, retryInMs: delay },
          'egress relay: Kafka did not acknowledge; retrying',
        );
        await sleep(delay);
      }
    }
  }

  const lease = () => deps.store.leaseUnpublished(now(), cfg.relayBatchSize, leaseMs);
  const done = (async () => {
    let full = false;
    // The next batch, leased while the current one is on the wire.
    let ahead: Promise<OutboxRow[]> | undefined;
    while (!closing) {
      if (!full && !ahead) {
        await wait(cfg.pollIntervalMs);
        if (closing) break;
        if (cfg.relayLingerMs > 0) await sleep(cfg.relayLingerMs); // let a batch fill
      }
      let rows: OutboxRow[];
      try {
        rows = await (ahead ?? lease());
      } catch (err) {
        log.error({ err }, 'egress relay: could not read the outbox');
        full = false;
        continue;
      } finally {
        ahead = undefined;
      }
      full = rows.length === cfg.relayBatchSize;
      if (rows.length === 0) continue;
      // A full batch says more is waiting: lease it now, publish it after this one is acknowledged.
      if (full) {
        ahead = lease();
        ahead.catch(() => undefined); // its failure is met where it is awaited
      }
      while (marks.size >= MAX_MARKS_IN_FLIGHT) await Promise.race(marks);
      await publish(rows);
    }
    // Closing: rows leased ahead stay pending (their lease ends); the marks under way finish.
    await ahead?.catch(() => undefined);
    await Promise.all(marks);
  })();

  return {
    wake() {
      if (woken) woken();
      else wakeFlag = true;
    },
    async close() {
      closing = true;
      woken?.();
      await Promise.race([done, sleep(cfg.requestTimeoutMs)]);
    },
  };
}
