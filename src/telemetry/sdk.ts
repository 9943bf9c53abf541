/**
 * The OpenTelemetry NodeSDK, started the way its users expect: resource detection (OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, host and process; OTEL_NODE_RESOURCE_DETECTORS chooses), the sampler
 * from OTEL_TRACES_SAMPLER when the config sets no ratio, exporters from the OTEL_EXPORTER_OTLP_*
 * variables when the config names no endpoint (otlp.ts), and OTEL_SDK_DISABLED. What Shekara
 * keeps from before: it starts only when the config turns tracing or metrics on, or when
 * OTEL_METRICS_EXPORTER names otlp (a metrics push) — the one variable that turns anything on
 * (index.ts; OTEL_TRACES_EXPORTER alone does not: deny by default); the span queue is bounded and
 * export failures are logged (tracing.ts, export-log.ts); the Prometheus endpoint is our own
 * listener; no instrumentation library is loaded (nothing is traced that names.ts does not
 * declare, so no span can carry a payload or a VIN).
 *
 * No context manager and no propagator are registered: the pipeline passes context explicitly
 * (tracing.ts). The SDK does register the global tracer and meter providers, so a process MUST run
 * at most one gateway with telemetry on at a time (tests run them one after another); close()
 * unregisters them, so the next gateway in the same process starts clean.
 */
import { metrics, trace, type Meter, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanProcessor, Sampler } from '@opentelemetry/sdk-trace';
import { METER_NAME, TRACER_NAME } from './names.js';
import { bounded } from './export-log.js';

/** `service.name` when neither the config nor the environment names one. */
export const DEFAULT_SERVICE_NAME = 'shekara';

export interface Sdk {
  /** The SDK's tracer; undefined when no span processor was given (tracing off). */
  readonly tracer: Tracer | undefined;
  /** The SDK's meter; undefined when no reader was given (metrics off). */
  readonly meter: Meter | undefined;
  /** Flushes and shuts the providers down (bounded), then unregisters them. */
  shutdown(): Promise<void>;
}

export async function startSdk(opts: {
  /** `telemetry.serviceName` from the config: when set, it wins over the environment. */
  readonly serviceName: string | undefined;
  readonly spanProcessors: SpanProcessor[];
  readonly sampler: Sampler | undefined;
  readonly metricReaders: IMetricReader[];
}): Promise<Sdk> {
  const config: Partial<NodeSDKConfiguration> = {
    // Detected attributes (OTEL_SERVICE_NAME among them) merge over this; `serviceName` over both.
    resource: resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME }),
    ...(opts.serviceName !== undefined && { serviceName: opts.serviceName }),
    // null: register none (the SDK's own convention); context travels explicitly here.
    contextManager: null as unknown as NodeSDKConfiguration['contextManager'],
    textMapPropagator: null,
    instrumentations: [],
    // Empty lists, never undefined: undefined makes the SDK build exporters from OTEL_*_EXPORTER
    // for signals the config left off (deny by default).
    spanProcessors: opts.spanProcessors,
    metricReaders: opts.metricReaders,
    logRecordProcessors: [],
    ...(opts.sampler !== undefined && { sampler: opts.sampler }),
  };
  // Imported only when telemetry is on: the SDK loads every exporter it could build from the
  // environment (gRPC among them), about a second of start-up that telemetry off must not pay.
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK(config);
  sdk.start();
  const tracing = opts.spanProcessors.length > 0;
  const metered = opts.metricReaders.length > 0;
  return {
    tracer: tracing ? trace.getTracer(TRACER_NAME) : undefined,
    meter: metered ? metrics.getMeter(METER_NAME) : undefined,
    async shutdown() {
      await bounded(sdk.shutdown());
      if (tracing) trace.disable();
      if (metered) metrics.disable();
    },
  };
}
