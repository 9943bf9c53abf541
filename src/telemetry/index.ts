/**
 * The telemetry module's one door. `createTelemetry(cfg)` starts what the `telemetry` config
 * slice asks for — tracing (OTLP), metrics (a Prometheus listener of its own, an OTLP push) —
 * through the OpenTelemetry NodeSDK (sdk.ts: the standard OTEL_* variables work as operators
 * expect), and resolves only when its listener is up. Every name is declared in names.ts.
 *
 * Off by default, and off costs nothing: no SDK is loaded or started, the tracer is the API's no-op
 * (tracing.ts says why that is free) and the meter is the API's no-op.
 *
 * close() flushes what is buffered, so it runs last, after the modules that emit.
 */
import type { TelemetryConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { disabledTracing, type Tracing } from './tracing.js';
import { disabledMetrics, enabledMetrics, pushesMetricsFromEnv, type Metrics } from './metrics.js';
import type { MetricPipeline } from './metric-readers.js';
import { otelEnv } from './otlp.js';

export { SPAN, ATTR, METRIC, TRACER_NAME, METER_NAME } from './names.js';
export { traceParentOf, traceIdOf, contextOf, logFields } from './tracing.js';
export type { Tracing } from './tracing.js';
export type { Metrics, GaugeSources } from './metrics.js';
export { METRICS_PATH } from './prometheus.js';

export interface Telemetry {
  readonly tracing: Tracing;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

export async function createTelemetry(cfg: TelemetryConfig, deps: { log: Logger }): Promise<Telemetry> {
  const log = deps.log.child({ module: 'telemetry' });
  const env = otelEnv();
  const metricsOn = cfg.metrics.prometheus.enabled || cfg.metrics.otlpUrl !== undefined || pushesMetricsFromEnv(env);
  if (!cfg.tracing.enabled && !metricsOn) {
    return disabledTelemetry();
  }
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
    log.info('telemetry: OTEL_SDK_DISABLED=true, tracing and metrics stay off');
    return disabledTelemetry();
  }
  // The SDK halves are imported only from here on: off, they are never loaded (about 0.3 CPU-s
  // of every gateway start; test/cli/cli-imports.test.ts).
  const [{ tracePipeline, enabledTracing }, { metricPipeline }, { startSdk }] = await Promise.all([
    import('./tracing-sdk.js'),
    import('./metric-readers.js'),
    import('./sdk.js'),
  ]);
  const traces = cfg.tracing.enabled ? await tracePipeline(cfg, log, env) : undefined;
  let meters: MetricPipeline;
  try {
    meters = await metricPipeline(cfg, log, env);
  } catch (err) {
    await traces?.processor.shutdown();
    throw err;
  }
  const sdk = await startSdk({
    serviceName: cfg.serviceName,
    spanProcessors: traces ? [traces.processor] : [],
    sampler: traces?.sampler,
    metricReaders: meters.readers,
  });
  const tracing = traces && sdk.tracer ? enabledTracing(sdk.tracer, traces.processor) : disabledTracing();
  const metrics = sdk.meter ? enabledMetrics(sdk.meter, meters.prometheusPort, log) : disabledMetrics();
  log.info(
    {
      serviceName: cfg.serviceName ?? 'from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, else shekara',
      tracing: traces ? { to: traces.target, sampleRatio: cfg.tracing.sampleRatio ?? 'OTEL_TRACES_SAMPLER' } : false,
      prometheus:
        meters.prometheusPort !== undefined ? `${cfg.metrics.prometheus.host}:${meters.prometheusPort}` : false,
      otlpMetrics: meters.otlpTarget ?? false,
    },
    'telemetry started',
  );
  return {
    tracing,
    metrics,
    async close() {
      // The SDK flushes spans and pushes metrics a last time, after the emitting modules closed.
      await meters.close();
      await sdk.shutdown();
    },
  };
}

/** Telemetry with everything off, for modules started on their own (tests, CLI tools). */
export function disabledTelemetry(): Telemetry {
  return { tracing: disabledTracing(), metrics: disabledMetrics(), close: async () => {} };
}
