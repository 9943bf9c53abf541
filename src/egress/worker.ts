/**
 * One delivery attempt of one outbox row, whatever queue it came from: consent re-check,
 * circuit breaker, destination check, HTTP delivery — and the outcome, as a settlement the
 * queue makes durable (with its egress-log row) before it lets go of the message.
 * Nothing is sent unless every check passed just before sending; nothing is dropped silently.
 */
import type { EgressLogEntry, EgressSettlement, OutboxRow } from '../store/index.js';
import { backoffDelay, type BackoffConfig } from './retry.js';
import {
  checkDestination,
  type CheckedAddress,
  type DestinationRules,
  type DestinationVerdict,
  type Resolver,
} from './destination.js';
import type { DeliveryResult, Transport } from './deliver.js';
import type { Breaker } from './breaker.js';
import { splitChain, type BatchConfig } from './batch.js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { ATTR, SPAN, disabledTelemetry, traceIdOf, traceParentOf, type Telemetry } from '../telemetry/index.js';
import { uuidv7Time } from '../ids.js';

export interface WorkerConfig extends BackoffConfig {
  readonly maxAttempts: number;
}

/** One OEM as egress sees it: its one destination and what may be sent there. */
export interface OemDestination extends DestinationRules {
  readonly id: string;
  /** Where approved projections are POSTed. The only destination this OEM has. */
  readonly endpoint: string;
  /** A file holding the HMAC signing key; absent: the key is in the store's local secrets. */
  readonly signingKeyFile?: string;
  readonly mtls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
  /**
   * false: the OEM is disabled. Nothing is sent to it; its pending deliveries wait (deferred,
   * no attempt counted, nothing blocked or dropped) until it is enabled again. Default true.
   */
  readonly enabled?: boolean;
  /** 'pull': never pushed to; its rows wait in its feed (GET /oem/v1/feed). Default 'push'. */
  readonly delivery?: 'push' | 'pull';
  /** Batched push (batch.ts). Config only; absent: one POST per projection. */
  readonly batch?: BatchConfig;
  /** With tracing on, a W3C traceparent header goes with each POST to this OEM. Config only; default false. */
  readonly propagateTraceContext?: boolean;
}

export interface OemRoute {
  readonly oem: OemDestination;
  readonly endpoint: URL;
  readonly transport: Transport;
  readonly breaker: Breaker;
}

export interface WorkerDeps {
  readonly routes: ReadonlyMap<string, OemRoute>;
  /**
   * Consent (and objection) re-check, just before sending. false, or the reason as a string →
   * blocked and logged with that reason (false: 'consent revoked'), nothing sent.
   */
  readonly isStillAllowed: (row: OutboxRow) => Promise<boolean | string>;
  readonly resolve: Resolver;
  readonly now: () => number;
  /** The deliver span per attempt, and the delivery counters and histograms. */
  readonly telemetry?: Telemetry;
}

/** A settlement, plus when a failed row is due again (for queues that retry in place). */
export type AttemptOutcome = EgressSettlement & { readonly retryInMs?: number };

/**
 * One attempt. `parent`: the queue's consume span, so the attempt's `shekara.egress.deliver`
 * span joins the record's trace; the entry it returns carries that trace's id.
 * `chain` (optional: queues fall back to one row at a time, chainOf below) is one attempt of
 * several rows of ONE vehicle and OEM, in outbox order.
 */
export type DeliveryWorker = ((row: OutboxRow, parent?: Context) => Promise<AttemptOutcome>) & {
  readonly chain?: ChainWorker;
};

/**
 * One attempt of a vehicle's consecutive rows (one OEM, one pseudonym, in outbox order), with a
 * consume span's context per row. The outcome of each row, in order; `undefined`: not attempted
 * (nothing sent, nothing logged, no attempt counted) because an earlier row of the chain was not
 * delivered (failed, deferred) and the vehicle's order MUST hold: the queue releases such a row,
 * due again behind the row that held it back. Rows sent go in as few POSTs as the OEM's batch
 * limits allow (one per `splitChain` group), each POST only after the one before was answered 2xx.
 */
export type ChainWorker = (
  rows: readonly OutboxRow[],
  parents?: readonly (Context | undefined)[],
) => Promise<(AttemptOutcome | undefined)[]>;

/**
 * The worker's `chain`, or, for a worker without one (tests inject plain functions), the rows one
 * at a time, stopping at the first that is not settled for good (failed or deferred).
 */
export const chainOf =
  (worker: DeliveryWorker): ChainWorker =>
  async (rows, parents) => {
    if (worker.chain) return worker.chain(rows, parents);
    const out: (AttemptOutcome | undefined)[] = rows.map(() => undefined);
    for (let i = 0; i < rows.length; i++) {
      const o = await worker(rows[i]!, parents?.[i]);
      out[i] = o;
      if (o.kind === 'failed' || o.kind === 'deferred') break;
    }
    return out;
  };

/**
 * How long one resolution + classification of an OEM's host is reused. Safe against DNS
 * rebinding: the transport connects only to the address the verdict names, never re-resolving.
 */
const VERDICT_TTL_MS = 5_000;

/** How often a disabled OEM's waiting rows are looked at again (bounds how soon enabling takes effect). */
export const DISABLED_RECHECK_MS = 1_000;

export function createDeliveryWorker(cfg: WorkerConfig, deps: WorkerDeps): DeliveryWorker {
  const { now } = deps;
  const verdicts = new Map<string, { at: number; route: OemRoute; verdict: Promise<DestinationVerdict> }>();
  const destinationOf = (route: OemRoute): Promise<DestinationVerdict> => {
    const hit = verdicts.get(route.oem.id);
    // A changed OEM (endpoint, allowed countries) is a new route object: never judged by the old verdict.
    if (hit && hit.route === route && now() - hit.at < VERDICT_TTL_MS) return hit.verdict;
    const verdict = checkDestination(route.endpoint, route.oem, deps.resolve);
    verdicts.set(route.oem.id, { at: now(), route, verdict });
    // A name that did not resolve is asked again next time, not remembered.
    void verdict.then((v) => {
      if (!v.ok && v.error.code === 'SHK_EGRESS_DEST_UNRESOLVED') verdicts.delete(route.oem.id);
    });
    return verdict;
  };
  const { tracing, metrics } = deps.telemetry ?? disabledTelemetry();

  const startSpan = (row: OutboxRow, route: OemRoute | undefined, parent: Context = ROOT_CONTEXT): Span =>
    tracing.tracer.startSpan(
      SPAN.deliver,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR.recordId]: row.recordId,
          [ATTR.oem]: row.oem,
          [ATTR.purpose]: row.purpose,
          [ATTR.outboxId]: row.id,
          [ATTR.attempt]: row.attempts + 1,
          [ATTR.httpMethod]: 'POST',
          [ATTR.serverAddress]: route?.endpoint.hostname ?? '(none)',
          ...(route
            ? { [ATTR.serverPort]: Number(route.endpoint.port || (route.endpoint.protocol === 'https:' ? 443 : 80)) }
            : {}),
        },
      },
      parent,
    );

  const chain: ChainWorker = async (rows, parents) => {
    if (rows.length === 0) return [];
    const route = deps.routes.get(rows[0]!.oem);
    const spans = rows.map((row, i) => startSpan(row, route, parents?.[i]));
    const started = performance.now();
    const out: (AttemptOutcome | undefined)[] = rows.map(() => undefined);
    try {
      await attemptChain(rows, route, spans, out);
      return out;
    } catch (err) {
      for (const span of spans) span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      rows.forEach((row, i) => {
        const o = out[i];
        if (o) observe(row, o, spans[i]!, seconds);
        else spans[i]!.setAttribute(ATTR.outcome, 'held');
        spans[i]!.end();
      });
    }
  };
  const deliver: DeliveryWorker = Object.assign(
    async (row: OutboxRow, parent?: Context): Promise<AttemptOutcome> => (await chain([row], [parent]))[0]!,
    { chain },
  );

  /** The attempt as telemetry sees it: span attributes, the delivery counter, the histograms. */
  const observe = (row: OutboxRow, outcome: AttemptOutcome, span: Span, seconds: number) => {
    if (outcome.kind === 'deferred' || outcome.kind === 'parked') {
      span.setAttribute(ATTR.outcome, outcome.kind);
      return; // not attempted (breaker open, OEM disabled, or a pull OEM's row parked for its feed): nothing counted
    }
    const { entry } = outcome;
    span.setAttribute(ATTR.outcome, entry.outcome);
    if (entry.httpStatus !== null) span.setAttribute(ATTR.httpStatus, entry.httpStatus);
    if (entry.destinationCountry !== null) span.setAttribute(ATTR.destinationCountry, entry.destinationCountry);
    if (entry.error !== null) {
      span.setAttribute(ATTR.reason, entry.error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: entry.error });
    }
    const labels = { [ATTR.oem]: row.oem, [ATTR.outcome]: entry.outcome };
    metrics.egressDeliveries.add(1, labels);
    metrics.egressDeliveryDuration.record(seconds, labels);
    if (entry.outcome === 'delivered') {
      const bornAt = uuidv7Time(row.recordId);
      if (Number.isFinite(bornAt))
        metrics.egressRecordAge.record(Math.max(0, now() - bornAt) / 1000, { [ATTR.oem]: row.oem });
    }
  };

  const entryOf = (
    row: OutboxRow,
    route: OemRoute | undefined,
    span: Span,
    outcome: EgressLogEntry['outcome'],
    target: CheckedAddress | null,
    status: number | null,
    error: string | null,
  ): EgressLogEntry => ({
    at: now(),
    oem: row.oem,
    destination: route?.endpoint.host ?? '(none)',
    destinationIp: target?.address ?? null,
    destinationCountry: target?.country ?? null,
    recordId: row.recordId,
    deliveryId: row.deliveryId,
    pseudonym: row.pseudonym,
    purpose: row.purpose,
    policyHash: row.policyHash,
    fieldsSent: row.fieldsSent,
    fieldsDropped: row.fieldsDropped,
    outcome,
    attempt: row.attempts + 1,
    httpStatus: status,
    error,
    traceId: traceIdOf(span),
  });

  /** A send's (or a failed destination check's) answer as the row's outcome. */
  const outcomeOf = (
    row: OutboxRow,
    route: OemRoute,
    span: Span,
    target: CheckedAddress | null,
    result: DeliveryResult,
  ): AttemptOutcome => {
    if (result.ok)
      return {
        kind: 'delivered',
        outboxId: row.id,
        entry: entryOf(row, route, span, 'delivered', target, result.status, null),
      };
    if (!result.retriable || row.attempts + 1 >= cfg.maxAttempts) {
      return {
        kind: 'dead',
        outboxId: row.id,
        entry: entryOf(row, route, span, 'dead-lettered', target, result.status, result.error),
      };
    }
    const delay = backoffDelay(row.attempts + 1, cfg);
    return {
      kind: 'failed',
      outboxId: row.id,
      entry: entryOf(row, route, span, 'failed', target, result.status, result.error),
      nextAttemptAt: now() + delay,
      retryInMs: delay,
    };
  };

  /**
   * The checks of one row before it may be sent, in this order: a destination, the OEM enabled,
   * consent (once per purpose of the chain: `allowed`), push rather than pull, the breaker, the
   * destination country. Either the row's outcome without a send, or the checked address to send to.
   */
  const check = async (
    row: OutboxRow,
    route: OemRoute | undefined,
    span: Span,
    allowed: (row: OutboxRow) => Promise<boolean | string>,
  ): Promise<{ outcome: AttemptOutcome } | { route: OemRoute; target: CheckedAddress }> => {
    if (!route) {
      return {
        outcome: {
          kind: 'dead',
          outboxId: row.id,
          entry: entryOf(
            row,
            route,
            span,
            'dead-lettered',
            null,
            null,
            `no destination is configured for OEM "${row.oem}"`,
          ),
        },
      };
    }
    if (route.oem.enabled === false) {
      // Disabled: not an attempt, not a block; the row waits for the OEM to be enabled again.
      return {
        outcome: {
          kind: 'deferred',
          outboxId: row.id,
          until: now() + DISABLED_RECHECK_MS,
          retryInMs: DISABLED_RECHECK_MS,
        },
      };
    }
    const verdict = await allowed(row);
    if (verdict !== true) {
      return {
        outcome: {
          kind: 'blocked',
          outboxId: row.id,
          entry: entryOf(
            row,
            route,
            span,
            'blocked',
            null,
            null,
            typeof verdict === 'string' ? verdict : 'consent revoked',
          ),
        },
      };
    }
    // An OEM that pulls is never pushed to: the row waits in its feed (GET /oem/v1/feed), where
    // consent and the requester's country are checked again when it is pulled.
    if (route.oem.delivery === 'pull') return { outcome: { kind: 'parked', outboxId: row.id } };
    const until = route.breaker.blockedUntil(now());
    if (until !== undefined)
      return { outcome: { kind: 'deferred', outboxId: row.id, until, retryInMs: Math.max(1, until - now()) } };

    const dest = await destinationOf(route);
    if (dest.ok) return { route, target: dest.target };
    if (dest.error.code === 'SHK_EGRESS_DEST_COUNTRY') {
      route.breaker.success(); // not the OEM's fault; the breaker measures its availability
      return {
        outcome: {
          kind: 'blocked',
          outboxId: row.id,
          entry: entryOf(row, route, span, 'blocked', dest.target, null, `${dest.error.code}: ${dest.error.message}`),
        },
      };
    }
    const result: DeliveryResult = {
      ok: false,
      status: null,
      error: `${dest.error.code}: ${dest.error.message}`,
      retriable: dest.error.retriable,
    };
    if (result.retriable) route.breaker.failure(now());
    return { outcome: outcomeOf(row, route, span, null, result) };
  };

  const attemptChain = async (
    rows: readonly OutboxRow[],
    route: OemRoute | undefined,
    spans: readonly Span[],
    out: (AttemptOutcome | undefined)[],
  ): Promise<void> => {
    // Consent and objections re-checked once per purpose for the whole chain: one vehicle, one
    // look-up of its VIN and flags per POST, not per row (a chain is one vehicle's rows, leased
    // together a moment ago; a revocation committed after this look-up is as if it came after the send).
    const verdicts = new Map<string, Promise<boolean | string>>();
    const allowed = (row: OutboxRow) => {
      let v = verdicts.get(row.purpose);
      if (!v) verdicts.set(row.purpose, (v = deps.isStillAllowed(row)));
      return v;
    };
    const ready: { row: OutboxRow; body: string; i: number; target: CheckedAddress; route: OemRoute }[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const c = await check(row, route, spans[i]!, allowed);
      if ('outcome' in c) {
        out[i] = c.outcome;
        // Not delivered and still pending: nothing behind it may go before it (order per vehicle).
        if (c.outcome.kind === 'failed' || c.outcome.kind === 'deferred') break;
        continue;
      }
      ready.push({ row, body: row.body, i, target: c.target, route: c.route });
    }
    const transport = route?.transport;
    for (const group of splitChain(ready, transport?.chain ? transport.batch : undefined)) {
      const { route: r, target } = group[0]!;
      // The OEM gets our trace context only if the operator opted in for it (metadata egress).
      const traceParent = r.oem.propagateTraceContext ? traceParentOf(spans[group[0]!.i]!) : null;
      const result =
        group.length > 1 && r.transport.chain
          ? await r.transport.chain(
              r.endpoint,
              target,
              group.map((g) => g.row),
              traceParent,
            )
          : await r.transport(r.endpoint, target, group[0]!.row, traceParent);
      // One POST, one measure of the OEM's availability.
      if (result.ok) r.breaker.success();
      else if (result.retriable) r.breaker.failure(now());
      for (const g of group) out[g.i] = outcomeOf(g.row, r, spans[g.i]!, target, result);
      if (group.some((g) => out[g.i]!.kind === 'failed')) {
        // The rows after a group to be sent again wait behind it (order per vehicle): not
        // attempted. (A group dead-lettered is settled for good: the next one may go.)
        const after = group[group.length - 1]!.i;
        for (let j = after + 1; j < rows.length; j++) if (out[j]?.kind !== 'blocked') out[j] = undefined;
        break;
      }
    }
  };
  return deliver;
}
