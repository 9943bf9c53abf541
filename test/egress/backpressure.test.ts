/**
 * Backpressure: when the egress queue is saturated (more than egress.maxBacklog rows not yet
 * handed on, or an OEM's oldest undelivered row older than egress.maxBacklogAgeSeconds), ingest
 * slows down instead of failing — MQTT withholds the PUBACK, HTTPS answers 503 with Retry-After —
 * and resumes by itself once the backlog drains. Nothing is lost.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { captureLog } from '../helpers/log-capture.js';
import {
  closedByServer,
  deliveredSignal,
  eventually,
  QUICK_EGRESS_RETRIES,
  startTestGateway,
  type TestGateway,
} from '../helpers/gateway.js';

type Car = TestGateway['cars'][number];

/**
 * With ingest pushed back: a QoS 1 PUBLISH of `speed` is held in line, its PUBACK withheld, and
 * an HTTPS POST is answered 503 + Retry-After. Resolves once both are seen, with the PUBACK's
 * promise (it resolves when the record is let in), in an object: a promise returned bare would be awaited.
 */
async function expectPushedBack(
  gw: TestGateway,
  client: MqttClient,
  car: Car,
  speed: number,
): Promise<{ withheld: Promise<void> }> {
  let acked = false;
  const withheld = client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed }), { qos: 1 }).then(() => {
    acked = true;
  });
  const res = await fetch(`${gw.httpUrl}/v1/vehicles/${car.vin}/telemetry`, {
    method: 'POST',
    body: JSON.stringify({ speed: speed - 1 }),
    headers: {
      authorization: `Basic ${Buffer.from(`${car.vin}:${car.secret}`).toString('base64')}`,
      'content-type': 'application/json',
    },
  });
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(((await res.json()) as { code: string }).code).toBe('SHK_INGEST_BACKPRESSURE');
  // The gateway holds the record in line, its PUBACK withheld: the car's in-flight window holds
  // it and the car slows down. (A PUBACK is sent only after the record leaves the line and commits.)
  await eventually(() => gw.app.ingest.waiting === 1, 10_000, 'the record held in line');
  expect(acked).toBe(false);
  return { withheld };
}

/** The speeds the OEM accepted, in the order it got them, once there are `n`. */
const deliveredSpeeds = (gw: TestGateway, n: number) => deliveredSignal(gw, 'Vehicle.Speed', n);

describe('egress backpressure › when the queue is saturated', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 1,
      config: {
        egress: {
          maxBacklog: 5,
          ...QUICK_EGRESS_RETRIES,
        },
      },
    });
  });
  afterAll(async () => gw?.stop());

  it('withholds the PUBACK and answers HTTPS with 503 + Retry-After, then catches up with nothing lost', async () => {
    const car = gw.cars[0]!;
    gw.sink.setStatus(503); // the OEM is down: the outbox fills
    const client = await gw.connect(car);
    for (let i = 0; i < 6; i++)
      await client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: i }), { qos: 1 }); // at least 6 rows
    await eventually(() => gw.app.egress.saturated, 2_000, 'the queue to report saturation');
    const { withheld } = await expectPushedBack(gw, client, car, 99);
    expect((await gw.app.store.counts()).records).toBe(6);

    gw.sink.setStatus(200); // the OEM is back: the backlog drains and ingest resumes by itself
    await withheld;
    const speeds = await deliveredSpeeds(gw, 7);
    expect(speeds).toEqual([0, 1, 2, 3, 4, 5, 99]);
  });
});

describe('egress backpressure › when the oldest undelivered row is older than maxBacklogAgeSeconds', () => {
  let gw: TestGateway;
  const logs = captureLog('info');
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 1,
      log: logs.log,
      config: {
        egress: {
          maxBacklog: 100_000, // the count bound stays far away: one or two rows wait
          maxBacklogAgeSeconds: 2,
          backlog: { checkEveryMs: 100, warnAgeSeconds: 1 }, // the warning comes before the pushback
          ...QUICK_EGRESS_RETRIES,
        },
      },
    });
  });
  afterAll(async () => gw?.stop());

  it('withholds the PUBACK and answers HTTPS with 503 while the count is far below maxBacklog, then resumes with nothing lost', async () => {
    const car = gw.cars[0]!;
    gw.sink.setStatus(503); // the OEM is down: its oldest row grows old, however few rows there are
    const client = await gw.connect(car);
    await client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: 0 }), { qos: 1 });
    await eventually(() => gw.app.egress.saturated, 10_000, 'the age bound to push back');
    const pushedBack = logs
      .lines()
      .find((l) => l.msg === 'egress: ingest pushed back: undelivered rows older than egress.maxBacklogAgeSeconds') as
      { maxBacklogAgeSeconds: number; oems: { oem: string; depth: number }[] } | undefined;
    expect(pushedBack?.maxBacklogAgeSeconds).toBe(2);
    expect(pushedBack?.oems).toEqual([expect.objectContaining({ oem: 'demo-oem', depth: 1 })]);

    const { withheld } = await expectPushedBack(gw, client, car, 99);
    expect(await gw.app.store.outboxBacklog()).toBe(1); // the count: 1 of 100,000

    gw.sink.setStatus(200); // the OEM is back: the row is delivered, the age falls, PUBACKs flow
    await withheld;
    await client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: 100 }), { qos: 1 });
    const speeds = await deliveredSpeeds(gw, 3);
    expect(speeds).toEqual([0, 99, 100]); // the 503-answered HTTPS one was never stored: the car sends it again
    expect(
      logs.lines().some((l) => l.msg === 'egress: ingest no longer pushed back by the age of undelivered rows'),
    ).toBe(true);
  });
});

describe('egress backpressure › a car whose message waited limits.pushbackMaxWaitSeconds', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 1,
      config: { egress: { maxBacklog: 1, ...QUICK_EGRESS_RETRIES }, limits: { pushbackMaxWaitSeconds: 1 } },
    });
  });
  afterAll(async () => gw?.stop());

  it('is disconnected with that message unacknowledged and not stored (by default it stays connected)', async () => {
    const car = gw.cars[0]!;
    gw.sink.setStatus(503); // the OEM is down: two rows are more than the backlog takes
    const client = await gw.connect(car);
    for (const speed of [0, 1])
      await client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed }), { qos: 1 });
    await eventually(() => gw.app.egress.saturated, 5_000, 'the queue to report saturation');
    let acked = false;
    void client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: 2 }), { qos: 1 }).then(
      () => (acked = true),
      () => undefined,
    );
    await eventually(() => gw.app.ingest.waiting === 1, 10_000, 'the record held in line');
    await closedByServer(client, 15_000);
    expect(acked).toBe(false);
    expect(gw.app.ingest.waiting).toBe(0);
    expect((await gw.app.store.counts()).records).toBe(2);
  });
});

describe('egress backlog › per OEM, as metrics and one aggregated warning', () => {
  let gw: TestGateway;
  const logs = captureLog('warn');
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 2,
      log: logs.log,
      config: {
        telemetry: { metrics: { prometheus: { enabled: true, port: 0 } } },
        egress: {
          initialBackoffMs: 20,
          maxBackoffMs: 50,
          pollIntervalMs: 20,
          maxAttempts: 100,
          backlog: { warnAgeSeconds: 1, checkEveryMs: 200 },
        },
      },
    });
  });
  afterAll(async () => gw?.stop());

  const scrape = async () => {
    const text = await (await fetch(`http://127.0.0.1:${gw.app.telemetry.metrics.prometheusPort}/metrics`)).text();
    const sample = (name: string) => {
      const m = new RegExp(`^${name}\\{[^}]*shekara_oem="demo-oem"[^}]*\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    return { depth: sample('shekara_egress_outbox_depth'), age: sample('shekara_egress_outbox_oldest_age') };
  };

  it('shows the depth and the oldest row age, warns once per reading for all rows, and drops to 0 once delivered', async () => {
    gw.sink.setStatus(503); // the OEM is down: rows wait
    for (const car of gw.cars) {
      const client = await gw.connect(car);
      for (let i = 0; i < 3; i++)
        await client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: i }), { qos: 1 });
    }
    const waiting = await eventually(
      async () => {
        const s = await scrape();
        return s.depth === 6 && (s.age ?? 0) > 1 && s;
      },
      20_000,
      'six rows waiting for over a second in the metrics',
    );
    expect(waiting.depth).toBe(6);
    const warnings = await eventually(
      () => {
        const w = logs.lines().filter((l) => l.msg === 'egress: outbox rows older than the warning age are waiting');
        return w.length > 0 && w;
      },
      10_000,
      'the backlog warning',
    );
    // One line per reading, all six rows in it: never a line per row.
    const last = warnings.at(-1)! as { oems: { oem: string; depth: number }[]; warnAgeSeconds: number };
    expect(last.warnAgeSeconds).toBe(1);
    expect(last.oems).toEqual([expect.objectContaining({ oem: 'demo-oem', depth: 6 })]);

    gw.sink.setStatus(200);
    await eventually(async () => (await scrape()).depth === 0, 20_000, 'the backlog drained in the metrics');
    expect((await scrape()).age).toBe(0);
  });
});
