/**
 * One HTTP delivery of an approved projection to its OEM, over undici, on a socket pinned to
 * the address destination.ts checked: the URL keeps the host name (Host header, TLS SNI and
 * certificate check use it) while the connection's `lookup` can only return the checked IP.
 */
import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import type { OutboxRow } from '../store/index.js';
import type { CheckedAddress } from './destination.js';
import { SIGNATURE_HEADER, signBody } from './sign.js';

export type DeliveryResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly status: number | null; readonly error: string; readonly retriable: boolean };

/**
 * Sends one row to one checked address. Injected in tests to prove no connection was attempted.
 * `traceParent`: sent as the W3C `traceparent` header when given (the OEM opted in).
 */
export type Transport = (
  endpoint: URL,
  target: CheckedAddress,
  row: OutboxRow,
  traceParent?: string | null,
) => Promise<DeliveryResult>;

export interface TransportOptions {
  readonly timeoutMs: number;
  /** The keys that sign a body at a given time (newest first; two during a rotation's overlap). */
  readonly signingKeys: (nowMs: number) => readonly Buffer[];
  readonly mtls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
  readonly retriableStatus: (s: number) => boolean;
  readonly now?: () => number;
}

/** A transport for one OEM; keeps one connection pool per checked address. */
export function createTransport(opts: TransportOptions): Transport & { close(): Promise<void> } {
  const now = opts.now ?? Date.now;
  const tls = opts.mtls
    ? {
        cert: readFileSync(opts.mtls.certFile),
        key: readFileSync(opts.mtls.keyFile),
        ...(opts.mtls.caFile ? { ca: readFileSync(opts.mtls.caFile) } : {}),
      }
    : {};
  const agents = new Map<string, Agent>();
  const agentFor = (t: CheckedAddress): Agent => {
    let a = agents.get(t.address);
    if (!a) {
      const pinned: LookupFunction = (_host, options, cb) => {
        if ((options as { all?: boolean }).all)
          (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
            { address: t.address, family: t.family },
          ]);
        else cb(null, t.address, t.family);
      };
      a = new Agent({
        connect: { lookup: pinned, timeout: opts.timeoutMs, ...tls },
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
      // Addresses come and go with DNS; a bounded pool of pools.
      if (agents.size >= 8) {
        const [oldest, agent] = agents.entries().next().value as [string, Agent];
        agents.delete(oldest);
        void agent.close();
      }
      agents.set(t.address, a);
    }
    return a;
  };

  const send: Transport = async (endpoint, target, row, traceParent) => {
    let status: number;
    try {
      const res = await request(endpoint, {
        method: 'POST',
        dispatcher: agentFor(target),
        headers: {
          'content-type': 'application/json',
          // The gateway record id (with the purpose: one record may cross once per purpose)
          // is the idempotency key end to end; an OEM that sees it twice drops the repeat.
          'idempotency-key': `${row.recordId}/${row.purpose}`,
          'shekara-record-id': row.recordId,
          'shekara-policy-hash': row.policyHash,
          [SIGNATURE_HEADER]: signBody(opts.signingKeys(now()), row.body, now()),
          ...(traceParent ? { traceparent: traceParent } : {}),
        },
        body: row.body,
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      status = res.statusCode;
      await res.body.dump().catch(() => undefined);
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string } };
      const reason =
        e.name === 'TimeoutError' || e.name === 'AbortError'
          ? `no answer within ${opts.timeoutMs} ms`
          : (e.code ?? e.cause?.code ?? e.message);
      return { ok: false, status: null, error: `network: ${reason}`, retriable: true };
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
  return Object.assign(send, {
    close: async () => {
      await Promise.all([...agents.values()].map((a) => a.close().catch(() => undefined)));
      agents.clear();
    },
  });
}
