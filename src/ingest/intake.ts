/**
 * The one path every payload takes, whatever channel it came by: decode → policy → durable
 * commit of the record, its projections (outbox) or its quarantine row. MQTT and HTTPS ingest
 * differ only in how they authenticate and how they answer the car.
 *
 * Telemetry: each payload is the root of one trace (`shekara.ingest.receive`, with the policy
 * projection and the commit as its children); the commit's traceparent is stored with the
 * record's outbox rows, so its deliveries continue the trace. Counted in
 * `shekara.ingest.messages` by channel and outcome, refusals in `shekara.ingest.rejects`.
 */
import type { Catalog } from '../catalog/index.js';
import { uuidv7 } from '../ids.js';
import type { CanonicalRecord, ClockSkew, IngestChannel, Projection } from '../record.js';
import type { Committer, WaitForRoom } from './committer.js';
import { decodeTelemetry, DecodeError } from '../decoder.js';
import type { Logger } from '../log.js';
import { INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import {
  ATTR,
  SPAN,
  contextOf,
  disabledTelemetry,
  logFields,
  traceParentOf,
  type Telemetry,
} from '../telemetry/index.js';
import { isShekaraError } from '../errors.js';
import type { BrokerDelivery, IngestItem } from '../store/index.js';
import { ephemeralVehicleRef, type VehicleRef } from '../vehicle-ref.js';

export interface Vehicle {
  readonly vin: string;
  readonly oem: string;
}

export type AcceptResult =
  | { readonly recordId: string; readonly quarantined: false; readonly projections: number }
  | { readonly recordId: string; readonly quarantined: true; readonly reason: string };

/** How a pushed-back payload waits for room in the store's commit line (committer.ts). */
export type PushbackRetry = WaitForRoom;

export interface IngestCounters {
  accepted: number;
  quarantined: number;
  rejected: Record<string, number>;
}

export interface Intake {
  /**
   * Resolves once the payload is durably stored (as a record or in quarantine).
   * `quarantineReason`: the payload goes straight to quarantine (it cannot be attributed).
   * `span`: a receive span the caller started and will end (MQTT keeps one across pushed-back
   * retries); without it the intake starts and ends its own. `mqttQos2`: the packet id of an
   * MQTT QoS 2 PUBLISH, written in the same commit as the record (exactly-once, mqtt/qos2.ts).
   * `brokerDelivery`: which external-broker delivery carried it, written in the same commit
   * (external-redelivery.ts).
   * `retry`: when the store pushes back, the decoded record and its projections wait in the
   * committer's line for room while `again()` holds, instead of being rejected at once (a
   * payload is decoded and its policy evaluated once, however long it waits); then reject with
   * the push-back.
   */
  accept(
    vehicle: Vehicle,
    channel: IngestChannel,
    payload: Buffer,
    opts?: {
      quarantineReason?: string;
      span?: Span;
      mqttQos2?: number;
      brokerDelivery?: BrokerDelivery;
      retry?: PushbackRetry;
    },
  ): Promise<AcceptResult>;
  /** Starts the root span of one payload (see `accept`'s `span`). */
  startReceive(channel: IngestChannel): Span;
  reject(reason: string, channel: IngestChannel): void;
  /** What a log line says instead of a VIN (src/vehicle-ref.ts). */
  readonly vehicleRef: VehicleRef;
  readonly counters: Readonly<IngestCounters>;
}

export function createIntake(deps: {
  committer: Committer;
  project: (record: CanonicalRecord) => Promise<Projection[]>;
  log: Logger;
  now?: () => number;
  telemetry?: Telemetry;
  vehicleRef?: VehicleRef;
  catalog?: Catalog | undefined;
  /** How far a car's time may be from the time of receipt before it is flagged (ms); defaults as in the config. */
  clock?: { readonly aheadMaxMs: number; readonly behindMaxMs: number };
}): Intake {
  const clock = deps.clock ?? { aheadMaxMs: 300_000, behindMaxMs: 604_800_000 };
  const vehicleRef = deps.vehicleRef ?? ephemeralVehicleRef();
  const now = deps.now ?? Date.now;
  const { tracing, metrics } = deps.telemetry ?? disabledTelemetry();
  const { tracer } = tracing;
  const counters: IngestCounters = { accepted: 0, quarantined: 0, rejected: {} };
  // Tracing off (the default): no spans, no contexts, no traceparent — per payload, nothing to
  // allocate for telemetry that nobody records. The no-op span is shared: it holds no state.
  const traced = tracing.enabled;

  const startReceive = (channel: IngestChannel): Span =>
    traced
      ? // HTTPS: the car called our server; MQTT: the broker handed us a message.
        tracer.startSpan(SPAN.receive, {
          kind: channel === 'https' ? SpanKind.SERVER : SpanKind.CONSUMER,
          attributes: { [ATTR.channel]: channel },
        })
      : UNTRACED;

  /** The group commit, as a child span of the receive; the record's outbox rows carry its traceparent. */
  const commit = async (item: IngestItem, receive: Span, retry: PushbackRetry | undefined): Promise<void> => {
    if (!traced) {
      await deps.committer.submit(item, retry);
      return;
    }
    // A pushed-back item waits in the committer's line (its span covers the wait).
    const span = tracer.startSpan(SPAN.commit, undefined, contextOf(receive));
    try {
      const batch = await deps.committer.submit(
        item.kind === 'record' ? { ...item, traceParent: traceParentOf(span) } : item,
        retry,
      );
      span.setAttribute(ATTR.commitBatch, batch);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  };

  async function accept(
    vehicle: Vehicle,
    channel: IngestChannel,
    payload: Buffer,
    quarantineReason: string | undefined,
    span: Span,
    ids: { mqttQos2?: number | undefined; brokerDelivery?: BrokerDelivery | undefined },
    retry: PushbackRetry | undefined,
  ): Promise<AcceptResult> {
    // The transport's ids of the message, committed with it (only those present).
    const sentAs = {
      ...(ids.mqttQos2 !== undefined && { mqttQos2: ids.mqttQos2 }),
      ...(ids.brokerDelivery && { brokerDelivery: ids.brokerDelivery }),
    };
    const receivedAt = now();
    const id = uuidv7(receivedAt);
    span.setAttribute(ATTR.recordId, id);
    span.setAttribute(ATTR.oem, vehicle.oem);
    const quarantine = async (reason: string): Promise<AcceptResult> => {
      await commit(
        { kind: 'quarantine', item: { id, vin: vehicle.vin, channel, receivedAt, reason, raw: payload }, ...sentAs },
        span,
        retry,
      );
      counters.quarantined += 1;
      // The reason names the field and the rule, never a value (src/decoder.ts); it stays out of
      // the span all the same. The car is named by its keyed reference, never its VIN.
      deps.log.warn(
        { vehicle: vehicleRef(vehicle.vin), recordId: id, channel, reason, ...logFields(span) },
        'payload quarantined',
      );
      return { recordId: id, quarantined: true, reason };
    };
    if (quarantineReason !== undefined) return quarantine(quarantineReason);
    let decoded;
    try {
      decoded = decodeTelemetry(payload, vehicle.vin, deps.catalog);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return quarantine(err.message);
    }
    const skew = clockSkewOf(decoded.observedAt, receivedAt, clock);
    if (skew) metrics.ingestClockSkew.add(1, { [ATTR.channel]: channel, [ATTR.reason]: skew });
    const record: CanonicalRecord = {
      id,
      vin: vehicle.vin,
      oem: vehicle.oem,
      channel,
      receivedAt,
      observedAt: decoded.observedAt ?? receivedAt,
      ...(skew && { clockSkew: skew }),
      signals: decoded.signals,
      account: decoded.account,
      unknownKeys: decoded.unknownKeys,
    };
    let projections: Projection[] = [];
    const project = traced ? tracer.startSpan(SPAN.project, undefined, contextOf(span)) : UNTRACED;
    try {
      projections = await deps.project(record);
    } catch (err) {
      // Safe failure: the record is kept, nothing of it leaves.
      project.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      deps.log.error(
        { err, recordId: id, ...logFields(span) },
        'policy evaluation failed; record stored without egress',
      );
    } finally {
      project.setAttribute(ATTR.projections, projections.length);
      project.end();
    }
    await commit({ kind: 'record', record, raw: payload, projections, ...sentAs }, span, retry);
    counters.accepted += 1;
    span.setAttribute(ATTR.projections, projections.length);
    return { recordId: id, quarantined: false, projections: projections.length };
  }

  return {
    counters,
    startReceive,
    vehicleRef,
    reject(reason, channel) {
      counters.rejected[reason] = (counters.rejected[reason] ?? 0) + 1;
      metrics.ingestRejects.add(1, { [ATTR.channel]: channel, [ATTR.reason]: reason });
    },
    async accept(vehicle, channel, payload, opts = {}) {
      const span = opts.span ?? startReceive(channel);
      let outcome = 'error';
      try {
        const result = await accept(vehicle, channel, payload, opts.quarantineReason, span, opts, opts.retry);
        outcome = result.quarantined ? 'quarantined' : 'stored';
        return result;
      } catch (err) {
        // Pushed back: nothing was stored; the car (or the MQTT retry below it) tries again.
        outcome = isShekaraError(err, 'SHK_INGEST_BACKPRESSURE') ? 'backpressure' : 'error';
        if (outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        if (metrics.enabled) metrics.ingestMessages.add(1, { [ATTR.channel]: channel, [ATTR.outcome]: outcome });
        span.setAttribute(ATTR.outcome, outcome);
        if (!opts.span) span.end();
      }
    },
  };
}

/** The span of every payload while tracing is off (what the no-op tracer would hand out each time). */
const UNTRACED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Whether a car's time is far from the time of receipt. Years outside 2000–2100 never get here
 * (the decoder quarantines them); within them a car whose clock was never set, drifts or lies
 * is flagged, its time kept as data. A car that sent no time has none to distrust.
 */
export function clockSkewOf(
  observedAt: number | undefined,
  receivedAt: number,
  max: { readonly aheadMaxMs: number; readonly behindMaxMs: number },
): ClockSkew | undefined {
  if (observedAt === undefined) return undefined;
  if (observedAt - receivedAt > max.aheadMaxMs) return 'ahead';
  if (receivedAt - observedAt > max.behindMaxMs) return 'behind';
  return undefined;
}
