/**
 * Batched delivery: rows bound for one OEM address that become due together leave in ONE signed
 * POST (docs/oem-api.md#batched-push). Each item keeps its own idempotency id (its delivery
 * id, made with the projection and stored with the row), so a batch sent again after a crash is deduplicated item by item.
 *
 * The OEM answers the batch as a whole (all or nothing): 2xx means it durably accepted EVERY
 * item; any other answer is every item's answer (retried, or dead-lettered, as a single
 * delivery's would be). An OEM MUST NOT answer 2xx for a batch it kept only part of.
 *
 * Per-vehicle order: a vehicle's rows come as one chain (`addChain`: consecutive rows of one
 * vehicle, in outbox order) and go into ONE batch, contiguous and in that order, never split
 * over two POSTs in flight at once. The worker's chain (chain.ts) sends a vehicle's next chain
 * only after this one was answered, so a failed batch holds back everything behind it.
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
  /** POSTs to the OEM on the wire at once, batched or not (slots.ts); absent: OEM_POSTS_IN_FLIGHT. */
  readonly maxInFlight?: number;
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

  /**
   * Adds one vehicle's chain (in order; at most maxRecords rows, and at most maxBytes of
   * bodies unless it is a single row): it goes whole into one batch, after the rows already there.
   */
  const addChain = (
    endpoint: URL,
    target: CheckedAddress,
    rows: readonly OutboxRow[],
    traceParent: string | null,
  ): Promise<DeliveryResult> => {
    const key = `${endpoint.href} ${target.address}`;
    const bytes = rows.reduce((n, r) => n + Buffer.byteLength(r.body, 'utf8'), 0);
    let p = open.get(key);
    // A chain that would push the batch past maxRecords or maxBytes starts the next one.
    if (p && (p.bytes + bytes > cfg.maxBytes || p.rows.length + rows.length > cfg.maxRecords)) {
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
    p.rows.push(...rows);
    p.bytes += bytes;
    if (p.rows.length >= cfg.maxRecords || p.bytes >= cfg.maxBytes) flush(key, p);
    return result;
  };

  return {
    addChain,
    add: (endpoint: URL, target: CheckedAddress, row: OutboxRow, traceParent: string | null) =>
      addChain(endpoint, target, [row], traceParent),
    /** Sends what is collected now and waits for every batch on the wire. */
    async drain(): Promise<void> {
      for (const [key, p] of [...open]) flush(key, p);
      await Promise.all([...inFlight]);
    },
  };
}

/**
 * One vehicle's rows (in outbox order) cut into consecutive groups that each fit one batch: at
 * most maxRecords rows and maxBytes of bodies (a single larger body is a group of its own).
 * Without batching (absent, or maxRecords 1) every row is its own group.
 */
export function splitChain<R extends Pick<OutboxRow, 'body'>>(rows: readonly R[], cfg: BatchConfig | undefined): R[][] {
  if (!cfg || cfg.maxRecords <= 1) return rows.map((r) => [r]);
  const groups: R[][] = [];
  let group: R[] = [];
  let bytes = 0;
  for (const r of rows) {
    const b = Buffer.byteLength(r.body, 'utf8');
    if (group.length > 0 && (group.length >= cfg.maxRecords || bytes + b > cfg.maxBytes)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(r);
    bytes += b;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
