/**
 * Metrics through the OpenTelemetry metrics API. A MeterProvider exists only when a reader is
 * configured (the Prometheus listener, an OTLP push); otherwise every instrument is the API's
 * no-op and observable gauges are never called (so the store is never asked for a backlog).
 */
import { createNoopMeter, type Attributes, type Counter, type Histogram, type Meter } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { TelemetryConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { ATTR, DURATION_BUCKETS_S, METER_NAME, METRIC, type MetricName } from './names.js';
import { bounded, logExportFailures } from './export-log.js';
import { startPrometheusListener, type PrometheusListener } from './prometheus.js';

/** Where the observable gauges read their values, at collection time. */
export interface GaugeSources {
  readonly backlog?: () => number | Promise<number>;
  readonly lagSeconds?: () => number | Promise<number>;
  readonly inFlight?: () => number;
  readonly connections?: () => number;
  readonly auditStaged?: () => number | Promise<number>;
}

export interface Metrics {
  /** True when some reader collects them. */
  readonly enabled: boolean;
  readonly meter: Meter;
  /** attributes: channel, outcome (stored | quarantined | backpressure | error). */
  readonly ingestMessages: Counter;
  /** attributes: channel, reason (the same reasons the log names). */
  readonly ingestRejects: Counter;
  /** attributes: oem, purpose, outcome (approved | released | blocked | down-sampled | nothing-to-send | held). */
  readonly policyDecisions: Counter;
  /** attributes: oem, outcome (delivered | failed | dead-lettered | blocked). */
  readonly egressDeliveries: Counter;
  readonly egressDeliveryDuration: Histogram;
  readonly egressRecordAge: Histogram;
  readonly auditIntegrationDelay: Histogram;
  /** Registers the observable gauges; call once, when the sources exist. */
  observe(sources: GaugeSources): void;
  /** The Prometheus listener's port, when enabled. */
  readonly prometheusPort: number | undefined;
  close(): Promise<void>;
}

/** How often metrics are pushed to an OTLP collector. */
const OTLP_INTERVAL_MS = 15_000;

export async function startMetrics(cfg: TelemetryConfig, log: Logger): Promise<Metrics> {
  const readers: IMetricReader[] = [];
  let listener: PrometheusListener | undefined;
  if (cfg.metrics.prometheus.enabled) {
    // Our own listener (deny by default, SHK_PORT_IN_USE), not the exporter's built-in server.
    const exporter = new PrometheusExporter({ preventServerStart: true });
    readers.push(exporter);
    listener = await startPrometheusListener(cfg.metrics.prometheus, exporter);
  }
  if (cfg.metrics.otlpUrl) {
    const exporter = logExportFailures(
      new OTLPMetricExporter({ url: cfg.metrics.otlpUrl }),
      'metric',
      cfg.metrics.otlpUrl,
      log,
    );
    readers.push(new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: OTLP_INTERVAL_MS }));
  }
  const provider =
    readers.length > 0
      ? new MeterProvider({ resource: resourceFromAttributes({ 'service.name': cfg.serviceName }), readers })
      : undefined;
  return instruments(
    provider?.getMeter(METER_NAME) ?? createNoopMeter(),
    provider !== undefined,
    listener?.port,
    async () => {
      await listener?.close();
      if (provider) await bounded(provider.shutdown());
    },
    log,
  );
}

/** Every metric off: the no-op meter (modules started without telemetry, unit tests). */
export const disabledMetrics = (): Metrics =>
  instruments(createNoopMeter(), false, undefined, async () => {}, undefined);

function instruments(
  meter: Meter,
  enabled: boolean,
  prometheusPort: number | undefined,
  close: () => Promise<void>,
  log: Logger | undefined,
): Metrics {
  const counter = (m: MetricName) => meter.createCounter(m.name, { unit: m.unit, description: m.description });
  const seconds = (m: MetricName) =>
    meter.createHistogram(m.name, {
      unit: m.unit,
      description: m.description,
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
  let observed = false;
  return {
    enabled,
    meter,
    prometheusPort,
    close,
    ingestMessages: counter(METRIC.ingestMessages),
    ingestRejects: counter(METRIC.ingestRejects),
    policyDecisions: counter(METRIC.policyDecisions),
    egressDeliveries: counter(METRIC.egressDeliveries),
    egressDeliveryDuration: seconds(METRIC.egressDeliveryDuration),
    egressRecordAge: seconds(METRIC.egressRecordAge),
    auditIntegrationDelay: seconds(METRIC.auditIntegrationDelay),
    observe(sources) {
      if (observed) throw new Error('telemetry: gauges are registered once');
      observed = true;
      const gauge = (m: MetricName, read: (() => number | Promise<number>) | undefined, attributes?: Attributes) => {
        if (!read) return;
        meter
          .createObservableGauge(m.name, { unit: m.unit, description: m.description })
          .addCallback(async (result) => {
            try {
              result.observe(await read(), attributes);
            } catch (err) {
              // A store closing under a scrape: this collection goes without the value.
              log?.debug({ metric: m.name, reason: (err as Error).message }, 'telemetry: gauge not read');
            }
          });
      };
      gauge(METRIC.egressBacklog, sources.backlog);
      gauge(METRIC.egressLag, sources.lagSeconds);
      gauge(METRIC.egressInFlight, sources.inFlight);
      gauge(METRIC.connections, sources.connections, { [ATTR.channel]: 'mqtt' });
      gauge(METRIC.auditStaged, sources.auditStaged);
    },
  };
}
