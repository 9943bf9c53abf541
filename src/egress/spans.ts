/**
 * What both egress queues share around a delivery: the consume span (the row taken off the
 * queue until its outcome is durable; the parent of each attempt's deliver span) and the log
 * line an outcome other than delivered gets, with the trace it belongs to.
 */
import { SpanKind, SpanStatusCode, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { OutboxRow } from '../store/index.js';
import type { Logger } from '../log.js';
import { ATTR, SPAN, logFields, type Tracing } from '../telemetry/index.js';
import type { AttemptOutcome } from './chain.js';

export function startConsumeSpan(
  tracing: Tracing,
  row: Pick<OutboxRow, 'id' | 'recordId' | 'oem' | 'purpose'>,
  parent: Context,
  attributes: Attributes,
): Span {
  return tracing.tracer.startSpan(
    SPAN.consume,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [ATTR.recordId]: row.recordId,
        [ATTR.oem]: row.oem,
        [ATTR.purpose]: row.purpose,
        [ATTR.outboxId]: row.id,
        ...attributes,
      },
    },
    parent,
  );
}

/** Ends a consume span whose outcome could not be made durable. */
export function failSpan(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
  span.end();
}

/** The log line for an outcome that is not a delivery (delivered rows are in the egress log). */
export function logOutcome(log: Logger, row: OutboxRow, outcome: AttemptOutcome, span: Span): void {
  if (outcome.kind === 'dead')
    log.error(
      {
        recordId: row.recordId,
        oem: row.oem,
        attempt: outcome.entry.attempt,
        error: outcome.entry.error,
        ...logFields(span),
      },
      'egress: dead-lettered',
    );
  else if (outcome.kind === 'blocked')
    log.warn(
      { recordId: row.recordId, oem: row.oem, error: outcome.entry.error, ...logFields(span) },
      'egress: blocked at send time',
    );
  else if (outcome.kind === 'failed')
    log.warn(
      {
        recordId: row.recordId,
        oem: row.oem,
        attempt: outcome.entry.attempt,
        retryInMs: outcome.retryInMs,
        error: outcome.entry.error,
        ...logFields(span),
      },
      'egress: delivery failed, will retry',
    );
}
