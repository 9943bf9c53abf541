/**
 * Batched delivery: rows bound for one OEM address that become due together leave in ONE signed
 * POST (docs/oem-api.md#batched-push). Each item keeps its own idempotency id (its delivery
 * id, made with the projection and stored with the row), so a batch sent again after a crash is deduplicated item by item.
 *
 * The OEM answers the batch as a whole (all or nothing): 2xx means it durably accepted EVERY
 * item; any other answer is every item's answer (retried, or dead-lettered, as a single
 * delivery's would be). An OEM MUST NOT answer 2xx for a batch it kept only part of.
 *
 * Per-vehicle order holds without anything here: both queues hand a vehicle's next row to the
 * worker only after its previous one is settled, so a batch never holds two rows of one vehicle.
 */
import type { OutboxRow } from '../store/index.js';
import type { CheckedAddress } from './destination.js';
import type { DeliveryResult } from './deliver.js';

/** The wire format's media type; the single-record POST stays `application/json`. */
export const BATCH_CONTENT_TYPE = 'application/vnd.shekara.batch+json';

export interface BatchConfig {
  /** Projections per POST; 1 = single-record delivery (the default: the OEM must opt in to the format). */
  readonly maxRecords: number;
  /** Sum of the projections' bodies per POST (bytes); a single larger body still leaves, alone. */
  readonly maxBytes: number;
  /** How long the first row of a batch waits for more; 0 = only rows due in the same event-loop turn. */
  readonly maxWaitMs: number;
}

/**
 * The batch body: `{"items":[{"idempotencyKey", "deliveryId", "purpose", "policyHash", "body"}]}`,
 * `body` being exactly what a single-record POST would carry. Built from the stored JSON text,
 * never re-serialized, so `body` is byte for byte the body whose digest the egress log keeps.
 */
export function batchBody(rows: readonly OutboxRow[]): string {
  const items = rows.map(
    (r) =>
      `{"idempotencyKey":${JSON.stringify(idempotencyKeyOf(r))},"deliveryId":${JSON.stringify(r.deliveryId)},` +
      `"purpose":${JSON.stringify(r.purpose)},"policyHash":${JSON.stringify(r.policyHash)},"body":${r.body}}`,
  );
  return `{"items":[${items.join(',')}]}`;
}

/**
 * One record may cross once per purpose: the delivery id (one per OEM × purpose × record, stored
 * with the row; src/policy/delivery-id.ts) is the idempotency id end to end. Never the record id.
 */
export const idempotencyKeyOf = (row: Pick<OutboxRow, 'deliveryId'>) => row.deliveryId;

export type SendBatch = (
  endpoint: URL,
  target: CheckedAddress,
  rows: readonly OutboxRow[],
  traceParent: string | null,
) => Promise<DeliveryResult>;

interface Pending {
  readonly endpoint: URL;
  readonly target: CheckedAddress;
  readonly traceParent: string | null;
  rows: OutboxRow[];
  bytes: number;
  waiters: ((r: DeliveryResult) => void)[];
  timer?: NodeJS.Timeout | NodeJS.Immediate;
}

/**
 * Collects rows per (endpoint, checked address) and hands each full or expired batch to `send`.
 * `add` resolves with the batch's result once its POST is answered.
 */
export function createBatcher(cfg: BatchConfig, send: SendBatch) {
  const open = new Map<string, Pending>();
  const inFlight = new Set<Promise<void>>();

  const flush = (key: string, p: Pending) => {
    if (open.get(key) === p) open.delete(key);
    if (p.timer) {
      clearTimeout(p.timer as NodeJS.Timeout);
      clearImmediate(p.timer as NodeJS.Immediate);
    }
    const sent = send(p.endpoint, p.target, p.rows, p.traceParent).then(
      (r) => r,
      (err: unknown): DeliveryResult => ({
        ok: false,
        status: null,
        error: `network: ${(err as Error).message}`,
        retriable: true,
      }),
    );
    const done = sent.then((r) => {
      for (const w of p.waiters) w(r);
    });
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };

  return {
    add(endpoint: URL, target: CheckedAddress, row: OutboxRow, traceParent: string | null): Promise<DeliveryResult> {
      const key = `${endpoint.href} ${target.address}`;
      const bytes = Buffer.byteLength(row.body, 'utf8');
      let p = open.get(key);
      // A row that would push the batch past maxBytes starts the next one.
      if (p && p.bytes + bytes > cfg.maxBytes) {
        flush(key, p);
        p = undefined;
      }
      if (!p) {
        // The first row's trace context (if the OEM opted in) stands for the batch.
        p = { endpoint, target, traceParent, rows: [], bytes: 0, waiters: [] };
        open.set(key, p);
        const it = p;
        p.timer =
          cfg.maxWaitMs > 0 ? setTimeout(() => flush(key, it), cfg.maxWaitMs) : setImmediate(() => flush(key, it));
      }
      const result = new Promise<DeliveryResult>((resolve) => p.waiters.push(resolve));
      p.rows.push(row);
      p.bytes += bytes;
      if (p.rows.length >= cfg.maxRecords || p.bytes >= cfg.maxBytes) flush(key, p);
      return result;
    },
    /** Sends what is collected now and waits for every batch on the wire. */
    async drain(): Promise<void> {
      for (const [key, p] of [...open]) flush(key, p);
      await Promise.all([...inFlight]);
    },
  };
}
