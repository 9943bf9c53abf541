/**
 * Metrics on: the readers handed to the NodeSDK (sdk.ts). Apart from metrics.ts, which every
 * module imports for its instruments: telemetry/index.ts imports this file only when metrics are
 * on, so a gateway with metrics off never loads the SDK (test/cli/cli-imports.test.ts).
 */
import { PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { TelemetryConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { logExportFailures } from './export-log.js';
import { pushesMetricsFromEnv } from './metrics.js';
import { otlpExporter, type OtelEnv } from './otlp.js';
import { startPrometheusListener, type PrometheusListener } from './prometheus.js';

/** How often metrics are pushed to an OTLP collector. */
const OTLP_INTERVAL_MS = 15_000;

/** What the NodeSDK is handed for metrics (sdk.ts), and the Prometheus listener that serves one of them. */
export interface MetricPipeline {
  readonly readers: IMetricReader[];
  readonly prometheusPort: number | undefined;
  /** Where pushed metrics go, for the start-up line; undefined when nothing is pushed. */
  readonly otlpTarget: string | undefined;
  /** Closes the listener (the SDK's shutdown closes the readers). */
  close(): Promise<void>;
}

/**
 * The readers the config asks for: the Prometheus exporter behind our own listener, and an OTLP
 * push when `metrics.otlpUrl` is set or the environment says OTEL_METRICS_EXPORTER=otlp (the
 * endpoint then comes from the standard variables). None: metrics stay off.
 */
export async function metricPipeline(cfg: TelemetryConfig, log: Logger, env: OtelEnv): Promise<MetricPipeline> {
  const readers: IMetricReader[] = [];
  let listener: PrometheusListener | undefined;
  let otlpTarget: string | undefined;
  if (cfg.metrics.prometheus.enabled) {
    // Our own listener (deny by default, SHK_PORT_IN_USE), not the exporter's built-in server.
    const exporter = new PrometheusExporter({ preventServerStart: true });
    readers.push(exporter);
    listener = await startPrometheusListener(cfg.metrics.prometheus, exporter);
  }
  if (cfg.metrics.otlpUrl !== undefined || pushesMetricsFromEnv(env)) {
    try {
      const { exporter, target } = await otlpExporter('metrics', cfg.metrics.otlpUrl, env);
      otlpTarget = target;
      readers.push(
        new PeriodicExportingMetricReader({
          exporter: logExportFailures(exporter, 'metric', target, log),
          exportIntervalMillis: OTLP_INTERVAL_MS,
        }),
      );
    } catch (err) {
      await listener?.close();
      throw err;
    }
  }
  return { readers, prometheusPort: listener?.port, otlpTarget, close: async () => listener?.close() };
}
