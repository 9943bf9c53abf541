/**
 * The telemetry module's one door. `createTelemetry(cfg)` starts what the `telemetry` config
 * slice asks for — tracing (OTLP/HTTP), metrics (a Prometheus listener of its own, an OTLP
 * push) — and resolves only when its listener is up. Every name is declared in names.ts.
 *
 * Off by default, and off costs nothing: no SDK is started, the tracer is the API's no-op
 * (tracing.ts says why that is free) and the meter is the API's no-op.
 *
 * close() flushes what is buffered, so it runs last, after the modules that emit.
 */
import type { TelemetryConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { disabledTracing, startTracing, type Tracing } from './tracing.js';
import { disabledMetrics, startMetrics, type Metrics } from './metrics.js';

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
  const tracing = startTracing(cfg, log);
  let metrics: Metrics;
  try {
    metrics = await startMetrics(cfg, log);
  } catch (err) {
    await tracing.close();
    throw err;
  }
  if (tracing.enabled || metrics.enabled) {
    log.info(
      {
        tracing: tracing.enabled ? { otlpUrl: cfg.tracing.otlpUrl, sampleRatio: cfg.tracing.sampleRatio } : false,
        prometheus:
          metrics.prometheusPort !== undefined ? `${cfg.metrics.prometheus.host}:${metrics.prometheusPort}` : false,
        otlpMetrics: cfg.metrics.otlpUrl ?? false,
      },
      'telemetry started',
    );
  }
  return {
    tracing,
    metrics,
    async close() {
      // Both flush: spans and a last metrics push, after the emitting modules closed.
      await Promise.allSettled([tracing.close(), metrics.close()]);
    },
  };
}

/** Telemetry with everything off, for modules started on their own (tests, CLI tools). */
export function disabledTelemetry(): Telemetry {
  return { tracing: disabledTracing(), metrics: disabledMetrics(), close: async () => {} };
}
