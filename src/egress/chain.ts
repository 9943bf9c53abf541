/**
 * A vehicle's chain: one attempt of several consecutive rows of ONE vehicle and OEM, in outbox
 * order, sent in as few POSTs as the OEM's batch limits allow (batch.ts `splitChain`). What a
 * queue calls (a worker, one row or a chain), and the loop that holds the vehicle's order: rows
 * behind one that was not delivered are not attempted. Each row's checks and its outcome are the
 * delivery worker's (worker.ts); this module only orders, groups and sends.
 */
import type { EgressSettlement, OutboxRow } from '../store/index.js';
import type { CheckedAddress } from './destination.js';
import type { DeliveryResult, Transport } from './deliver.js';
import type { Breaker } from './breaker.js';
import { splitChain } from './batch.js';
import { SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { ATTR, traceParentOf } from '../telemetry/index.js';

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

/** What the chain needs of an OEM's route: where and how to POST, and whose availability to record. */
export interface ChainRoute {
  readonly endpoint: URL;
  readonly transport: Transport;
  readonly breaker: Breaker;
  readonly oem: { readonly propagateTraceContext?: boolean };
}

/** The delivery worker's part of a chain: each row's span, checks and outcome. */
export interface ChainSteps<R extends ChainRoute> {
  readonly routeOf: (oem: string) => R | undefined;
  /** Consent (and objection) re-check; asked once per purpose of a chain. */
  readonly isStillAllowed: (row: OutboxRow) => Promise<boolean | string>;
  readonly startSpan: (row: OutboxRow, route: R | undefined, parent?: Context) => Span;
  /** The attempt as telemetry sees it, once its outcome is known. */
  readonly observe: (row: OutboxRow, outcome: AttemptOutcome, span: Span, seconds: number) => void;
  /** The checks before a send: either the row's outcome without a send, or the checked address to send to. */
  readonly check: (
    row: OutboxRow,
    route: R | undefined,
    span: Span,
    allowed: (row: OutboxRow) => Promise<boolean | string>,
  ) => Promise<{ outcome: AttemptOutcome } | { route: R; target: CheckedAddress }>;
  /** A send's answer as the row's outcome. */
  readonly outcomeOf: (
    row: OutboxRow,
    route: R,
    span: Span,
    target: CheckedAddress | null,
    result: DeliveryResult,
  ) => AttemptOutcome;
  readonly now: () => number;
}

/** The chain worker over the delivery worker's steps: spans per row, then checks, groups and POSTs in order. */
export function createChainWorker<R extends ChainRoute>(steps: ChainSteps<R>): ChainWorker {
  const { now } = steps;

  const attemptChain = async (
    rows: readonly OutboxRow[],
    route: R | undefined,
    spans: readonly Span[],
    out: (AttemptOutcome | undefined)[],
  ): Promise<void> => {
    // Consent and objections re-checked once per purpose for the whole chain: one vehicle, one
    // look-up of its VIN and flags per POST, not per row (a chain is one vehicle's rows, leased
    // together a moment ago; a revocation committed after this look-up is as if it came after the send).
    const verdicts = new Map<string, Promise<boolean | string>>();
    const allowed = (row: OutboxRow) => {
      let v = verdicts.get(row.purpose);
      if (!v) verdicts.set(row.purpose, (v = steps.isStillAllowed(row)));
      return v;
    };
    const ready: { row: OutboxRow; body: string; i: number; target: CheckedAddress; route: R }[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const c = await steps.check(row, route, spans[i]!, allowed);
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
      for (const g of group) out[g.i] = steps.outcomeOf(g.row, r, spans[g.i]!, target, result);
      if (group.some((g) => out[g.i]!.kind === 'failed')) {
        // The rows after a group to be sent again wait behind it (order per vehicle): not
        // attempted. (A group dead-lettered is settled for good: the next one may go.)
        const after = group[group.length - 1]!.i;
        for (let j = after + 1; j < rows.length; j++) if (out[j]?.kind !== 'blocked') out[j] = undefined;
        break;
      }
    }
  };

  return async (rows, parents) => {
    if (rows.length === 0) return [];
    const route = steps.routeOf(rows[0]!.oem);
    const spans = rows.map((row, i) => steps.startSpan(row, route, parents?.[i]));
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
        if (o) steps.observe(row, o, spans[i]!, seconds);
        else spans[i]!.setAttribute(ATTR.outcome, 'held');
        spans[i]!.end();
      });
    }
  };
}
