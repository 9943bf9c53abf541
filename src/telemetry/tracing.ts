/**
 * Tracing: the SDK (NodeSDK, sdk.ts) when `telemetry.tracing.enabled`, the API's no-op tracer
 * otherwise.
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
import { parseTraceParent } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import type { TelemetryConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { TRACER_NAME } from './names.js';
import { logExportFailures } from './export-log.js';
import { otlpExporter, type OtelEnv } from './otlp.js';

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

/** Spans queued for export at most; past it new spans are dropped rather than memory growing. */
const MAX_QUEUE = 8_192;
const EXPORT_BATCH = 1_024;
const EXPORT_DELAY_MS = 1_000;
const EXPORT_TIMEOUT_MS = 10_000;

/** What the NodeSDK is handed for traces (sdk.ts): one bounded batch processor, and the sampler. */
export interface TracePipeline {
  readonly processor: BatchSpanProcessor;
  /** Undefined: the SDK takes OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on). */
  readonly sampler: Sampler | undefined;
  /** Where spans go, for the start-up line ("from the environment" when the config names none). */
  readonly target: string;
}

export async function tracePipeline(cfg: TelemetryConfig, log: Logger, env: OtelEnv): Promise<TracePipeline> {
  const { exporter, target } = await otlpExporter('traces', cfg.tracing.otlpUrl, env);
  const processor = new BatchSpanProcessor({
    exporter: logExportFailures(exporter, 'trace', target, log),
    maxQueueSize: MAX_QUEUE,
    maxExportBatchSize: EXPORT_BATCH,
    scheduledDelayMillis: EXPORT_DELAY_MS,
    exportTimeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const ratio = cfg.tracing.sampleRatio;
  // A trace is sampled at its root (the car's message) and kept or dropped whole downstream.
  const sampler =
    ratio === undefined ? undefined : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  return { processor, sampler, target };
}

/** Tracing on: `tracer` comes from the SDK's provider; `processor` is the one the SDK exports through. */
export function enabledTracing(tracer: Tracer, processor: BatchSpanProcessor): Tracing {
  return {
    enabled: true,
    tracer,
    parentFrom(traceParent) {
      if (!traceParent) return ROOT_CONTEXT;
      const sc = parseTraceParent(traceParent);
      return sc ? trace.setSpanContext(ROOT_CONTEXT, { ...sc, isRemote: true }) : ROOT_CONTEXT;
    },
    flush: () => processor.forceFlush(),
    // The SDK's shutdown (sdk.ts) shuts the processor down; nothing more to do here.
    close: async () => {},
  };
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
