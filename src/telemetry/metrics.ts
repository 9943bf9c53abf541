/**
 * Metrics through the OpenTelemetry metrics API. The SDK (sdk.ts) gets a MeterProvider only when
 * a reader is configured (the Prometheus listener, an OTLP push); otherwise every instrument is
 * the API's no-op and observable gauges are never called (so the store is never asked for a
 * backlog).
 */
import {
  createNoopMeter,
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type UpDownCounter,
} from '@opentelemetry/api';
import type { Logger } from '../log.js';
import { ATTR, DURATION_BUCKETS_S, METRIC, type MetricName } from './names.js';
import type { OtelEnv } from './otlp.js';

/** Where the observable gauges read their values, at collection time. */
export interface GaugeSources {
  readonly backlog?: () => number | Promise<number>;
  readonly lagSeconds?: () => number | Promise<number>;
  readonly inFlight?: () => number;
  readonly connections?: () => number;
  readonly auditStaged?: () => number | Promise<number>;
  readonly auditIntegrationAgeSeconds?: () => number | Promise<number>;
  readonly auditSelfCheckFailed?: () => number;
  /** Several values, each with its attributes (src/reports/alerts.ts). */
  readonly ledgerThresholds?: () => Promise<readonly { value: number; attributes: Attributes }[]>;
  readonly incidentNoticeDue?: () => Promise<readonly { value: number; attributes: Attributes }[]>;
  /** The SQLite writer thread's totals since start (none for other stores). */
  readonly storeWriter?: () => { busySeconds: number; lockWaitSeconds: number; turns: number } | undefined;
  /** Per OEM: outbox rows not yet settled, and the age of the oldest (seconds). */
  readonly outboxByOem?: () =>
    | readonly { oem: string; depth: number; oldestAgeSeconds: number }[]
    | Promise<readonly { oem: string; depth: number; oldestAgeSeconds: number }[]>;
}

export interface Metrics {
  /** True when some reader collects them. */
  readonly enabled: boolean;
  readonly meter: Meter;
  /** attributes: channel, outcome (stored | quarantined | backpressure | error). */
  readonly ingestMessages: Counter;
  /** attributes: channel, reason (the same reasons the log names). */
  readonly ingestRejects: Counter;
  /** attributes: channel, reason (ahead | behind): records whose car time is far from the time of receipt. */
  readonly ingestClockSkew: Counter;
  /** attributes: oem, purpose, outcome (approved | released | blocked | down-sampled | nothing-to-send | held). */
  readonly policyDecisions: Counter;
  /** attributes: oem, outcome (delivered | failed | dead-lettered | blocked). */
  readonly egressDeliveries: Counter;
  readonly egressDeliveryDuration: Histogram;
  readonly egressRecordAge: Histogram;
  /** attributes: oem. Changes of ±1 as POSTs start and end (egress/slots.ts). */
  readonly egressPostsInFlight: UpDownCounter;
  /** attributes: oem. Changes of ±1 as POSTs start and stop waiting for a slot. */
  readonly egressPostsWaiting: UpDownCounter;
  readonly auditIntegrationDelay: Histogram;
  /** Registers the observable gauges; call once, when the sources exist. */
  observe(sources: GaugeSources): void;
  /** The Prometheus listener's port, when enabled. */
  readonly prometheusPort: number | undefined;
  close(): Promise<void>;
}

/** OTEL_METRICS_EXPORTER names `otlp`: push metrics even though the config names no endpoint. */
export const pushesMetricsFromEnv = (env: OtelEnv): boolean =>
  (env.OTEL_METRICS_EXPORTER ?? '').split(',').some((e) => e.trim() === 'otlp');

/** Metrics on: every instrument from the SDK's meter. */
export const enabledMetrics = (meter: Meter, prometheusPort: number | undefined, log: Logger): Metrics =>
  instruments(meter, true, prometheusPort, async () => {}, log);

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
  const upDown = (m: MetricName) => meter.createUpDownCounter(m.name, { unit: m.unit, description: m.description });
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
    ingestClockSkew: counter(METRIC.ingestClockSkew),
    policyDecisions: counter(METRIC.policyDecisions),
    egressDeliveries: counter(METRIC.egressDeliveries),
    egressDeliveryDuration: seconds(METRIC.egressDeliveryDuration),
    egressRecordAge: seconds(METRIC.egressRecordAge),
    egressPostsInFlight: upDown(METRIC.egressPostsInFlight),
    egressPostsWaiting: upDown(METRIC.egressPostsWaiting),
    auditIntegrationDelay: seconds(METRIC.auditIntegrationDelay),
    observe(sources) {
      if (observed) throw new Error('telemetry: gauges are registered once');
      observed = true;
      const gauge = (m: MetricName, read: (() => number | Promise<number>) | undefined, attributes?: Attributes) =>
        gauges(m, read && (async () => [{ value: await read(), attributes: attributes ?? {} }]));
      const gauges = (
        m: MetricName,
        read: (() => Promise<readonly { value: number; attributes: Attributes }[]>) | undefined,
      ) => {
        if (!read) return;
        meter
          .createObservableGauge(m.name, { unit: m.unit, description: m.description })
          .addCallback(async (result) => {
            try {
              for (const v of await read()) result.observe(v.value, v.attributes);
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
      gauge(METRIC.auditIntegrationAge, sources.auditIntegrationAgeSeconds);
      gauge(METRIC.auditSelfCheckFailed, sources.auditSelfCheckFailed);
      gauges(METRIC.ledgerThresholdFraction, sources.ledgerThresholds);
      gauges(METRIC.incidentNoticeDue, sources.incidentNoticeDue);
      const writer = sources.storeWriter;
      if (writer) {
        const total = (m: MetricName) =>
          meter.createObservableCounter(m.name, { unit: m.unit, description: m.description });
        const [busy, wait, turns] = [
          total(METRIC.storeWriterBusy),
          total(METRIC.storeWriterLockWait),
          total(METRIC.storeWriterTurns),
        ];
        meter.addBatchObservableCallback(
          (result) => {
            const s = writer();
            if (!s) return;
            result.observe(busy, s.busySeconds);
            result.observe(wait, s.lockWaitSeconds);
            result.observe(turns, s.turns);
          },
          [busy, wait, turns],
        );
      }
      const byOem = sources.outboxByOem;
      if (byOem) {
        const depth = meter.createObservableGauge(METRIC.egressOutboxDepth.name, {
          unit: METRIC.egressOutboxDepth.unit,
          description: METRIC.egressOutboxDepth.description,
        });
        const age = meter.createObservableGauge(METRIC.egressOutboxOldestAge.name, {
          unit: METRIC.egressOutboxOldestAge.unit,
          description: METRIC.egressOutboxOldestAge.description,
        });
        meter.addBatchObservableCallback(
          async (result) => {
            try {
              for (const o of await byOem()) {
                result.observe(depth, o.depth, { [ATTR.oem]: o.oem });
                result.observe(age, o.oldestAgeSeconds, { [ATTR.oem]: o.oem });
              }
            } catch (err) {
              log?.debug({ reason: (err as Error).message }, 'telemetry: outbox gauges not read');
            }
          },
          [depth, age],
        );
      }
    },
  };
}
