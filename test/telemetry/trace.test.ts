/**
 * One trace per record, over real parts: a real mqtt.js car → the gateway (MQTT endpoint, SQLite) →
 * the real Kafka at 127.0.0.1:19092 (a topic prefix of its own) → the consumer group → a real
 * HTTP OEM sink; spans exported over OTLP/HTTP to a real collector this test runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { newCar, nextTelemetry } from '../../src/sim/telemetry.js';
import { SPAN } from '../../src/telemetry/index.js';
import {
  ONE_PURPOSE_POLICY as ONE_PURPOSE,
  eventually,
  startTestGateway,
  type TestGateway,
} from '../helpers/gateway.js';
import { KAFKA_BROKERS, uniquePrefix } from '../egress/helpers.js';
import { startCollector, type CollectedSpan, type Collector } from './collector.js';

const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

const kafkaQueue = () => ({
  kind: 'kafka',
  kafka: { brokers: KAFKA_BROKERS, topicPrefix: uniquePrefix(), partitions: 1, maxWaitTimeMs: 50, relayLingerMs: 2 },
});
const egress = (queue: Record<string, unknown>) => ({
  initialBackoffMs: 20,
  maxBackoffMs: 100,
  pollIntervalMs: 50,
  requestTimeoutMs: 2_000,
  queue,
});

async function sendOneRecord(gw: TestGateway): Promise<string> {
  const car = gw.cars[0]!;
  const client = await gw.connect(car);
  await client.publishAsync(telemetryTopic(car.vin), JSON.stringify(nextTelemetry(newCar(car.vin, 0), Date.now())), {
    qos: 1,
  });
  const [delivery] = await eventually(
    () => gw.sink.deliveries.length >= 1 && gw.sink.deliveries,
    20_000,
    'the delivery',
  );
  const deliveryId = (delivery!.body as { deliveryId: string }).deliveryId;
  // The outcome (and its egress-log row) is committed after the OEM answered.
  const [row] = await eventually(
    async () => {
      const rows = await gw.app.store.listEgressLog({ deliveryId });
      return rows.length >= 1 && rows;
    },
    10_000,
    'the egress-log row',
  );
  return row!.recordId;
}

/** The record's one entry as the regulator API shows it, with its Merkle leaf's canonical bytes. */
async function apiEntry(gw: TestGateway, recordId: string): Promise<{ traceId: string | null; leaf: string }> {
  const { key } = await gw.app.store.createApiKey({ role: 'regulator', label: 'trace test', now: Date.now() });
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${gw.httpUrl}/regulator/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    return res.json() as Promise<T>;
  };
  const { entries } = await get<{ entries: { seq: number; traceId: string | null }[] }>(
    `/entries?recordId=${recordId}`,
  );
  expect(entries).toHaveLength(1);
  const one = await get<{ entry: { traceId: string | null }; leaf: { canonical: string } }>(
    `/entries/${entries[0]!.seq}`,
  );
  expect(one.entry.traceId).toBe(entries[0]!.traceId);
  return { traceId: entries[0]!.traceId, leaf: one.leaf.canonical };
}

describe('tracing › one trace per record, through Kafka', () => {
  let gw: TestGateway;
  let collector: Collector;
  let recordId: string;
  let trace: CollectedSpan[];
  const one = (name: string) => {
    const found = trace.filter((s) => s.name === name);
    expect(found.map((s) => s.name)).toEqual([name]);
    return found[0]!;
  };

  beforeAll(async () => {
    collector = await startCollector();
    gw = await startTestGateway({
      cars: 1,
      policy: ONE_PURPOSE,
      config: {
        egress: egress(kafkaQueue()),
        telemetry: { serviceName: 'shekara-trace-test', tracing: { enabled: true, otlpUrl: collector.tracesUrl } },
      },
    });
    recordId = await sendOneRecord(gw);
    await gw.app.telemetry.tracing.flush();
    const root = await eventually(
      () => collector.spans.find((s) => s.name === SPAN.receive),
      10_000,
      'the receive span',
    );
    // The consume span ends only once the outcome is durable, so it may miss the flush above and
    // come with the next scheduled export: wait for every hop's span, then assert on exactly those.
    const hops = [SPAN.receive, SPAN.project, SPAN.commit, SPAN.produce, SPAN.consume, SPAN.deliver];
    trace = await eventually(
      () => {
        const spans = collector.spans.filter((s) => s.traceId === root.traceId);
        return hops.every((h) => spans.some((s) => s.name === h)) && spans;
      },
      10_000,
      "a span of every hop in the record's trace",
    );
  });
  afterAll(async () => {
    await gw?.stop();
    await collector?.close();
  });

  it('holds the receive, project, commit, produce, consume and deliver spans of that record in one trace', () => {
    expect(new Set(collector.spans.filter((s) => s.name === SPAN.receive).map((s) => s.traceId)).size).toBe(1);
    expect(trace.map((s) => s.name).sort()).toEqual(
      [SPAN.commit, SPAN.consume, SPAN.deliver, SPAN.project, SPAN.produce, SPAN.receive].sort(),
    );
    expect(trace.every((s) => s.serviceName === 'shekara-trace-test')).toBe(true);
  });

  it('chains them parent to child: receive → commit → produce → consume → deliver, with project under receive', () => {
    const receive = one(SPAN.receive),
      project = one(SPAN.project),
      commit = one(SPAN.commit);
    const produce = one(SPAN.produce),
      consume = one(SPAN.consume),
      deliver = one(SPAN.deliver);
    expect(receive.parentSpanId).toBeUndefined();
    expect(project.parentSpanId).toBe(receive.spanId);
    expect(commit.parentSpanId).toBe(receive.spanId);
    expect(produce.parentSpanId).toBe(commit.spanId);
    expect(consume.parentSpanId).toBe(produce.spanId);
    expect(deliver.parentSpanId).toBe(consume.spanId);
  });

  it('marks each hop with its kind and the attributes an operator searches by', () => {
    expect(one(SPAN.receive)).toMatchObject({
      kind: SPAN_KIND.consumer,
      attributes: {
        'shekara.channel': 'mqtt',
        'shekara.record_id': recordId,
        'shekara.outcome': 'stored',
        'shekara.projections': 1,
      },
    });
    expect(one(SPAN.produce)).toMatchObject({
      kind: SPAN_KIND.producer,
      attributes: { 'messaging.system': 'kafka', 'shekara.record_id': recordId },
    });
    expect(one(SPAN.produce).attributes['messaging.destination.name']).toMatch(/egress\.demo-oem$/);
    expect(one(SPAN.consume)).toMatchObject({
      kind: SPAN_KIND.consumer,
      attributes: { 'messaging.system': 'kafka', 'shekara.queue': 'kafka', 'shekara.record_id': recordId },
    });
    expect(one(SPAN.deliver)).toMatchObject({
      kind: SPAN_KIND.client,
      attributes: {
        'shekara.outcome': 'delivered',
        'http.response.status_code': 200,
        'http.request.method': 'POST',
        'shekara.destination.country': 'private',
        'shekara.attempt': 1,
        'server.address': '127.0.0.1',
        'server.port': gw.sink.port,
      },
    });
  });

  it('keeps the trace id in the egress-log row, and the regulator API shows it, outside the Merkle leaf', async () => {
    const traceId = trace[0]!.traceId;
    const [row] = await gw.app.store.listEgressLog({ recordId });
    expect(row!.traceId).toBe(traceId);
    const entry = await apiEntry(gw, recordId);
    expect(entry.traceId).toBe(traceId);
    // The leaf format is a contract with the verifiers (docs/audit.md): no trace id in it.
    expect(Object.keys(JSON.parse(entry.leaf) as object)).not.toContain('traceId');
    expect(entry.leaf).not.toContain(traceId);
  });

  it('records no VIN and no payload value in any span', () => {
    const text = JSON.stringify(collector.spans);
    expect(text).not.toContain(gw.cars[0]!.vin);
    expect(text).not.toMatch(/vehicles\/|Aigerim|Vehicle\.Speed|example\.kz/);
  });

  it('sends the OEM no traceparent unless its config opts in', () => {
    expect(gw.sink.deliveries[0]!.headers.traceparent).toBeUndefined();
  });
});

// One gateway for both: the local queue with an OEM that opted in to trace context, and a car
// that posts over HTTPS (each case follows its own record; a gateway start is most of a case).
describe('tracing › the local queue, an OEM that opted in to trace context, and HTTPS ingest', () => {
  let gw: TestGateway;
  let collector: Collector;
  beforeAll(async () => {
    collector = await startCollector();
    gw = await startTestGateway({
      cars: 2,
      policy: ONE_PURPOSE,
      oem: { propagateTraceContext: true },
      config: {
        egress: egress({ kind: 'local' }),
        telemetry: { tracing: { enabled: true, otlpUrl: collector.tracesUrl } },
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await collector?.close();
  });

  it('carries the trace across the outbox row, and sends the OEM the deliver span as traceparent', async () => {
    const c = collector;
    const g = gw;
    const recordId = await sendOneRecord(g);
    await g.app.telemetry.tracing.flush();
    const deliver = await eventually(
      () => c.spans.find((s) => s.name === SPAN.deliver && s.attributes['shekara.record_id'] === recordId),
      10_000,
      'the deliver span',
    );
    // The consume span ends once the outcome is durable, possibly after the flush above.
    const trace = await eventually(
      () => {
        const spans = c.spans.filter((s) => s.traceId === deliver.traceId);
        return spans.some((s) => s.name === SPAN.consume) && spans;
      },
      10_000,
      'the consume span',
    );
    const byName = Object.fromEntries(trace.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(
      [SPAN.commit, SPAN.consume, SPAN.deliver, SPAN.project, SPAN.receive].sort(),
    );
    expect(byName[SPAN.consume]!.parentSpanId).toBe(byName[SPAN.commit]!.spanId);
    expect(byName[SPAN.consume]!.attributes['shekara.queue']).toBe('local');
    expect(deliver.parentSpanId).toBe(byName[SPAN.consume]!.spanId);
    const [row] = await g.app.store.listEgressLog({ recordId });
    expect(row!.traceId).toBe(deliver.traceId);
    const sent = g.sink.deliveries.filter((d) => (d.body as { deliveryId: string }).deliveryId === row!.deliveryId);
    expect(sent[0]!.headers.traceparent).toBe(`00-${deliver.traceId}-${deliver.spanId}-01`);
  });

  it('starts a new trace at the gateway as a SERVER span, ignoring a traceparent the car sent', async () => {
    const car = gw.cars[1]!;
    const carsOwn = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await fetch(`${gw.httpUrl}/v1/vehicles/${car.vin}/telemetry`, {
      method: 'POST',
      body: JSON.stringify(nextTelemetry(newCar(car.vin, 0), Date.now())),
      headers: {
        authorization: `Basic ${Buffer.from(`${car.vin}:${car.secret}`).toString('base64')}`,
        'content-type': 'application/json',
        traceparent: carsOwn,
      },
    });
    expect(res.status).toBe(202);
    const { recordId } = (await res.json()) as { recordId: string };
    await eventually(
      async () => (await gw.app.store.listEgressLog({ recordId })).length >= 1,
      10_000,
      'the egress-log row',
    );
    await gw.app.telemetry.tracing.flush();
    const receive = await eventually(
      () => collector.spans.find((s) => s.name === SPAN.receive && s.attributes['shekara.record_id'] === recordId),
      10_000,
      'the receive span',
    );
    expect(receive).toMatchObject({
      kind: SPAN_KIND.server,
      parentSpanId: undefined,
      attributes: { 'shekara.channel': 'https', 'shekara.record_id': recordId, 'shekara.outcome': 'stored' },
    });
    expect(receive.traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    const [row] = await gw.app.store.listEgressLog({ recordId });
    expect(row!.traceId).toBe(receive.traceId);
    // The URL path names the VIN: it is not recorded.
    expect(JSON.stringify(collector.spans)).not.toContain(car.vin);
  });
});

describe('tracing › disabled', () => {
  it('sends nothing to the collector and stores no trace id', async () => {
    const collector = await startCollector();
    const gw = await startTestGateway({
      cars: 1,
      policy: ONE_PURPOSE,
      config: {
        egress: egress(kafkaQueue()),
        telemetry: {
          tracing: { enabled: false, otlpUrl: collector.tracesUrl },
          metrics: { otlpUrl: collector.metricsUrl },
        },
      },
    });
    try {
      const recordId = await sendOneRecord(gw);
      const [row] = await gw.app.store.listEgressLog({ recordId });
      expect(row!.traceId).toBeNull();
      expect((await apiEntry(gw, recordId)).traceId).toBeNull();
      expect(gw.sink.deliveries[0]!.headers.traceparent).toBeUndefined();
    } finally {
      await gw.stop();
    }
    // Metrics were pushed (so the collector was reachable and configured); no trace request ever came.
    expect(collector.requests.some((r) => r.path === '/v1/metrics')).toBe(true);
    expect(collector.requests.filter((r) => r.path === '/v1/traces')).toEqual([]);
    expect(collector.spans).toEqual([]);
    await collector.close();
  });
});
