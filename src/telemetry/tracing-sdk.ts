/**
 * Tracing on: the span pipeline handed to the NodeSDK (sdk.ts) and the Tracing built on its
 * tracer. Apart from tracing.ts, which every module imports for its no-op half and trace-parent
 * helpers: telemetry/index.ts imports this file only when tracing is on, so a gateway with
 * tracing off never loads the SDK (test/cli/cli-imports.test.ts).
 */
import { ROOT_CONTEXT, trace, type Tracer } from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import type { TelemetryConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { logExportFailures } from './export-log.js';
import { otlpExporter, type OtelEnv } from './otlp.js';
import type { Tracing } from './tracing.js';

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
