/**
 * One HTTP delivery of an approved projection to its OEM, over undici, on a socket pinned to
 * the address destination.ts checked: the URL keeps the host name (Host header, TLS SNI and
 * certificate check use it) while the connection's `lookup` can only return the checked IP.
 */
import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import type * as Undici from 'undici';

/**
 * undici, loaded at the first delivery: about 0.2 CPU-s of start-up that a process delivering
 * nothing (the main thread beside the egress thread, `--role ingest`) need not pay
 * (test/cli/cli-imports.test.ts). Awaiting the settled promise afterwards costs a microtask.
 */
let undici: Promise<typeof Undici> | undefined;
const loadUndici = () => (undici ??= import('undici'));
import type { OutboxRow } from '../store/index.js';
import type { CheckedAddress } from './destination.js';
import { SIGNATURE_HEADER, signBody } from './sign.js';
import { BATCH_CONTENT_TYPE, batchBody, createBatcher, idempotencyKeyOf, type BatchConfig } from './batch.js';
import { createSlots, OEM_POSTS_IN_FLIGHT, type SlotCounters } from './slots.js';

export type DeliveryResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly status: number | null; readonly error: string; readonly retriable: boolean };

/**
 * Sends one row to one checked address. Injected in tests to prove no connection was attempted.
 * `traceParent`: sent as the W3C `traceparent` header when given (the OEM opted in).
 */
export type Transport = ((
  endpoint: URL,
  target: CheckedAddress,
  row: OutboxRow,
  traceParent?: string | null,
) => Promise<DeliveryResult>) & {
  /**
   * Batched push only: several consecutive rows of ONE vehicle, in order, in one POST (with the
   * rows of other vehicles due at the same time); the answer is every row's. At most
   * `batch.maxRecords` rows and `batch.maxBytes` of bodies (batch.ts `splitChain`).
   */
  readonly chain?: (
    endpoint: URL,
    target: CheckedAddress,
    rows: readonly OutboxRow[],
    traceParent: string | null,
  ) => Promise<DeliveryResult>;
  /** The OEM's batch limits, with `chain`. */
  readonly batch?: BatchConfig;
};

export interface TransportOptions {
  readonly timeoutMs: number;
  /** The keys that sign a body at a given time (newest first; two during a rotation's overlap). */
  readonly signingKeys: (nowMs: number) => readonly Buffer[];
  readonly mtls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
  readonly retriableStatus: (s: number) => boolean;
  readonly now?: () => number;
  /** Batched delivery (batch.ts); absent or maxRecords 1: one POST per row. Its `maxInFlight` bounds every POST. */
  readonly batch?: BatchConfig;
  /** The POSTs on the wire and waiting for a slot (slots.ts), for the metrics. */
  readonly posts?: SlotCounters;
}

/**
 * A transport for one OEM; keeps one keep-alive connection pool (undici Agent) per checked
 * address, reused by every request to it, so a busy OEM costs no TLS handshake per delivery.
 */
export function createTransport(opts: TransportOptions): Transport & { close(): Promise<void> } {
  const now = opts.now ?? Date.now;
  const tls = opts.mtls
    ? {
        cert: readFileSync(opts.mtls.certFile),
        key: readFileSync(opts.mtls.keyFile),
        ...(opts.mtls.caFile ? { ca: readFileSync(opts.mtls.caFile) } : {}),
      }
    : {};
  // One bound for every POST to this OEM, whatever address or batch it goes to.
  const inFlight = opts.batch?.maxInFlight ?? OEM_POSTS_IN_FLIGHT;
  const agents = new Map<string, Undici.Agent>();
  const agentFor = (t: CheckedAddress, http: typeof Undici): Undici.Agent => {
    let a = agents.get(t.address);
    if (!a) {
      const pinned: LookupFunction = (_host, options, cb) => {
        if ((options as { all?: boolean }).all)
          (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
            { address: t.address, family: t.family },
          ]);
        else cb(null, t.address, t.family);
      };
      a = new http.Agent({
        // No more connections than POSTs in flight: a slot is freed when a response's body is
        // read, a moment before undici counts its connection idle, and the next POST would
        // otherwise open a connection of its own (7 for 4 in flight over 200 deliveries).
        connections: inFlight,
        connect: { lookup: pinned, timeout: opts.timeoutMs, ...tls },
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
      // Addresses come and go with DNS; a bounded pool of pools.
      if (agents.size >= 8) {
        const [oldest, agent] = agents.entries().next().value as [string, Undici.Agent];
        agents.delete(oldest);
        void agent.close();
      }
      agents.set(t.address, a);
    }
    return a;
  };

  const slots = createSlots(inFlight, opts.posts);

  /** One signed POST, once a slot is free; its answer as a delivery result (no redirect is ever followed). */
  const post = (
    endpoint: URL,
    target: CheckedAddress,
    headers: Record<string, string>,
    body: string,
    traceParent: string | null | undefined,
  ): Promise<DeliveryResult> => slots.run(() => postNow(endpoint, target, headers, body, traceParent));
  const postNow = async (
    endpoint: URL,
    target: CheckedAddress,
    headers: Record<string, string>,
    body: string,
    traceParent: string | null | undefined,
  ): Promise<DeliveryResult> => {
    let status: number;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      const http = await loadUndici();
      // The whole exchange (connect, request, answer, body) within timeoutMs, counted once undici
      // is loaded. A timer of our own, cleared once the answer is read: AbortSignal.timeout's
      // cannot be cleared, so every answered POST left one behind that fired timeoutMs later (a
      // DOMException and an abort event each, ~5 % of the egress thread's busy time).
      const abort = new AbortController();
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, opts.timeoutMs);
      timer.unref(); // as AbortSignal.timeout's: the exchange on the wire keeps the process up, not its bound
      const res = await http.request(endpoint, {
        method: 'POST',
        dispatcher: agentFor(target, http),
        headers: {
          ...headers,
          [SIGNATURE_HEADER]: signBody(opts.signingKeys(now()), body, now()),
          ...(traceParent ? { traceparent: traceParent } : {}),
        },
        body,
        signal: abort.signal,
      });
      status = res.statusCode;
      await res.body.dump().catch(() => undefined);
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string } };
      const reason =
        timedOut || e.name === 'TimeoutError' || e.name === 'AbortError'
          ? `no answer within ${opts.timeoutMs} ms`
          : (e.code ?? e.cause?.code ?? e.message);
      return { ok: false, status: null, error: `network: ${reason}`, retriable: true };
    } finally {
      clearTimeout(timer);
    }
    if (status >= 200 && status < 300) return { ok: true, status };
    // undici's request() never follows redirects; one would send the data to a destination no one approved.
    if (status >= 300 && status < 400)
      return {
        ok: false,
        status,
        error: 'HTTP redirect refused: the OEM endpoint must answer directly',
        retriable: false,
      };
    return { ok: false, status, error: `HTTP ${status}`, retriable: opts.retriableStatus(status) };
  };

  const single: Transport = (endpoint, target, row, traceParent) =>
    post(
      endpoint,
      target,
      {
        'content-type': 'application/json',
        // The delivery id (one per record and purpose, nothing inside; stored with the row)
        // is the idempotency key end to end; an OEM that sees it twice drops the repeat.
        'idempotency-key': idempotencyKeyOf(row),
        'shekara-delivery-id': row.deliveryId,
        'shekara-policy-hash': row.policyHash,
      },
      row.body,
      traceParent,
    );
  // Many rows, one POST: each item carries its own idempotency id inside the body (batch.ts).
  const batcher =
    opts.batch && opts.batch.maxRecords > 1
      ? createBatcher(opts.batch, (endpoint, target, rows, traceParent) =>
          rows.length === 1
            ? single(endpoint, target, rows[0]!, traceParent)
            : post(
                endpoint,
                target,
                { 'content-type': BATCH_CONTENT_TYPE, 'shekara-batch-size': String(rows.length) },
                batchBody(rows),
                traceParent,
              ),
        )
      : undefined;
  const send: Transport = batcher
    ? Object.assign(
        (endpoint: URL, target: CheckedAddress, row: OutboxRow, traceParent?: string | null) =>
          batcher.add(endpoint, target, row, traceParent ?? null),
        { chain: batcher.addChain, batch: opts.batch },
      )
    : single;
  return Object.assign(send, {
    close: async () => {
      await batcher?.drain();
      await Promise.all([...agents.values()].map((a) => a.close().catch(() => undefined)));
      agents.clear();
    },
  });
}
