/**
 * One delivery attempt of one outbox row, whatever queue it came from: consent re-check,
 * circuit breaker, destination check, HTTP delivery — and the outcome, as a settlement the
 * queue makes durable (with its egress-log row) before it lets go of the message. Several rows of
 * one vehicle go as a chain (chain.ts), with these same checks and outcomes per row.
 * Nothing is sent unless every check passed just before sending; nothing is dropped silently.
 */
import type { EgressLogEntry, OutboxRow } from '../store/index.js';
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
import type { BatchConfig } from './batch.js';
import { createChainWorker, type AttemptOutcome, type DeliveryWorker } from './chain.js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { ATTR, SPAN, disabledTelemetry, traceIdOf, type Telemetry } from '../telemetry/index.js';
import { uuidv7Time } from '../ids.js';
import { recordFacts } from './record-facts.js';
import { payloadDigest } from '../audit/leaf.js';

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
    ...recordFacts(row),
    outcome,
    attempt: row.attempts + 1,
    httpStatus: status,
    error,
    traceId: traceIdOf(span),
    // Hashed here, where the body is in hand (the exact bytes POSTed, alone or as a batch item):
    // the store then logs it without reading the row's body again.
    payload: payloadDigest(row.body),
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

  const chain = createChainWorker({
    routeOf: (oem) => deps.routes.get(oem),
    isStillAllowed: deps.isStillAllowed,
    startSpan,
    observe,
    check,
    outcomeOf,
    now,
  });
  return Object.assign(
    async (row: OutboxRow, parent?: Context): Promise<AttemptOutcome> => (await chain([row], [parent]))[0]!,
    { chain },
  );
}
