/**
 * Tracing: the SDK (NodeSDK, sdk.ts; its span pipeline in tracing-sdk.ts) when
 * `telemetry.tracing.enabled`, the API's no-op tracer otherwise. This half loads only the API.
 *
 * Why tracing off costs nothing: no TracerProvider, span processor, exporter, timer or socket
 * exists. Call sites get the API's no-op tracer, whose `startSpan` returns a NonRecordingSpan
 * (no id generated, no clock read, nothing buffered) whose methods are empty; the trace-parent
 * helpers below answer null for such a span, so no column and no Kafka header is written, and
 * `parentFrom` does not even parse what it is handed.
 *
 * Context is passed explicitly (a `Context` argument along the pipeline, the traceparent in the
 * outbox row and the Kafka headers), not through a global AsyncLocalStorage context manager:
 * the pipeline is a handful of known hops and explicit parents cannot leak into unrelated work,
 * so the SDK is started without a context manager and without a propagator (sdk.ts).
 */
import {
  ProxyTracerProvider,
  ROOT_CONTEXT,
  TraceFlags,
  isSpanContextValid,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { TRACER_NAME } from './names.js';

export interface Tracing {
  /** True when spans are recorded and exported. */
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** The context a W3C `traceparent` names; ROOT_CONTEXT when absent, malformed, or tracing is off. */
  parentFrom(traceParent: string | null | undefined): Context;
  /** Exports every span ended so far (tests; close() does it too). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Tracing off: the API's no-op tracer and nothing else. */
export function disabledTracing(): Tracing {
  // A provider of our own with no delegate always hands out the no-op tracer, even if the host
  // process registered a global TracerProvider.
  const tracer = new ProxyTracerProvider().getTracer(TRACER_NAME);
  return { enabled: false, tracer, parentFrom: () => ROOT_CONTEXT, flush: async () => {}, close: async () => {} };
}

/**
 * The W3C traceparent of `span` (version 00), or null when it has no valid context (tracing
 * off). Kept for unsampled spans too, so that a trace dropped at its root stays dropped
 * downstream instead of being sampled afresh at each hop.
 */
export function traceParentOf(span: Span): string | null {
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return null;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00'}`;
}

/** The trace id of a span that is recorded (and so exported); null otherwise, so a stored id always names a trace that exists. */
export function traceIdOf(span: Span): string | null {
  return span.isRecording() ? span.spanContext().traceId : null;
}

/** A context whose active span is `span`: the parent of the next hop's spans. */
export const contextOf = (span: Span, parent: Context = ROOT_CONTEXT): Context => trace.setSpan(parent, span);

const NO_FIELDS: Readonly<Record<string, never>> = Object.freeze({});

/** `trace_id` and `span_id` for a log line about a recorded span; nothing otherwise. */
export function logFields(span: Span): Readonly<Record<string, string>> {
  if (!span.isRecording()) return NO_FIELDS;
  const sc = span.spanContext();
  return { trace_id: sc.traceId, span_id: sc.spanId };
}
