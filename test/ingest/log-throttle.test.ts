/**
 * Expected conditions logged in aggregate: a car over its rate, refused again and again, is
 * counted per refusal in metrics but logged at most once per interval, with the count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogThrottle } from '../../src/log-throttle.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { captureLog, type LogCapture } from '../helpers/log-capture.js';
import { connackCode, RawCar } from '../helpers/raw-mqtt.js';

describe('log throttle', () => {
  it('logs the first occurrence of a kind at once, then one line per interval with the count', () => {
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    let t = 0;
    const th = createLogThrottle(
      { warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) },
      1_000,
      () => t,
    );
    for (let i = 0; i < 500; i++) th.note('rate-limit-exceeded', { reason: 'rate-limit-exceeded' }, 'refused');
    th.note('bad-credentials', { reason: 'bad-credentials' }, 'refused');
    t = 1_000;
    th.note('rate-limit-exceeded', { reason: 'rate-limit-exceeded' }, 'refused');
    expect(lines.map((l) => [l.obj.reason, l.obj.count])).toEqual([
      ['rate-limit-exceeded', 1],
      ['bad-credentials', 1],
      ['rate-limit-exceeded', 500],
    ]);
  });
});

describe('https ingest › a car far over its rate', () => {
  let gw: TestGateway;
  let cap: LogCapture;
  beforeAll(async () => {
    cap = captureLog('info');
    gw = await startTestGateway({
      cars: 1,
      log: cap.log,
      config: { limits: { messagesPerSecond: 1, messageBurst: 1 } },
    });
  });
  afterAll(async () => gw?.stop());

  it('is refused every time, counted every time, and logged once', async () => {
    const car = gw.cars[0]!;
    const auth = `Basic ${Buffer.from(`${car.vin}:${car.secret}`).toString('base64')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${gw.httpUrl}/v1/vehicles/${car.vin}/telemetry`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: '{"speed":1}',
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    const refused = statuses.filter((s) => s === 429).length;
    expect(refused).toBeGreaterThan(150);
    expect(gw.app.ingest.counters.rejected['rate-limit-exceeded']).toBe(refused);
    const lines = cap.lines().filter((l) => l.msg === 'https ingest: refused');
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines[0]).toMatchObject({ reason: 'rate-limit-exceeded', count: 1 });
    expect(cap.text()).not.toContain('"stack"');
  });
});

describe('mqtt ingest › refused CONNECTs and a car over its rate', () => {
  let gw: TestGateway;
  let cap: LogCapture;
  beforeAll(async () => {
    cap = captureLog('info');
    gw = await startTestGateway({
      cars: 2,
      log: cap.log,
      config: { limits: { messagesPerSecond: 1, messageBurst: 1 } },
    });
  });
  afterAll(async () => gw?.stop());

  const refusedLines = (reason: string) =>
    cap.lines().filter((l) => l.msg === 'mqtt: refused' && l.reason === reason).length;

  it('counts every refused CONNECT and logs the reason once per window', async () => {
    const car = gw.cars[0]!;
    for (let i = 0; i < 60; i++) {
      await gw.connect(car, { password: 'wrong-secret' }).then(
        () => expect.fail('connected with a wrong secret'),
        () => undefined,
      );
    }
    expect(gw.app.ingest.counters.rejected['bad-credentials']).toBe(60);
    expect(refusedLines('bad-credentials')).toBe(1);
    expect(cap.text()).not.toContain('"stack"');
  });

  it('counts every message over the rate and logs it once per window (MQTT 5 keeps the car)', async () => {
    const car = gw.cars[1]!;
    const c = await gw.connect(car, { protocolVersion: 5 });
    const codes: number[] = [];
    for (let i = 0; i < 100; i++) {
      await c.publishAsync(`vehicles/${car.vin}/telemetry`, JSON.stringify({ speed: i }), { qos: 1 }).then(
        (p) => codes.push((p as { reasonCode?: number } | undefined)?.reasonCode ?? 0),
        (err: { code?: number }) => codes.push(err.code ?? -1),
      );
    }
    const refused = codes.filter((x) => x !== 0).length;
    expect(refused).toBeGreaterThan(90);
    expect(gw.app.ingest.counters.rejected['rate-limit-exceeded']).toBe(refused);
    expect(refusedLines('rate-limit-exceeded')).toBe(1);
    expect(cap.text()).not.toContain('"stack"');
  });
});

describe('mqtt ingest › messages withheld under backpressure', () => {
  let gw: TestGateway;
  let cap: LogCapture;
  beforeAll(async () => {
    cap = captureLog('info');
    // maxBacklog 1 with an OEM that answers 503: after the first record the egress queue is
    // saturated and ingest pushes back (PUBACK withheld).
    gw = await startTestGateway({ cars: 1, log: cap.log, config: { egress: { maxBacklog: 1 } } });
    gw.sink.setStatus(503);
  });
  afterAll(async () => gw?.stop());

  it('are counted and logged in aggregate, without a stack, when the car leaves with them in flight', async () => {
    const car = gw.cars[0]!;
    const topic = `vehicles/${car.vin}/telemetry`;
    const first = await RawCar.open(gw.app.mqttPort!);
    expect(connackCode(await first.connect(car))).toBe(0);
    first.send(first.publish(topic, '{"speed":1}', 1, 1));
    expect((await first.next())?.cmd).toBe('puback');
    first.end();
    await eventually(() => gw.app.egress.saturated);
    const c = await RawCar.open(gw.app.mqttPort!);
    expect(connackCode(await c.connect(car))).toBe(0);
    const burst = Array.from({ length: 30 }, (_, i) => c.publish(topic, JSON.stringify({ speed: i }), 1, i + 1));
    // PINGRESP is written at once: when it arrives, every PUBLISH before it was read and is waiting.
    c.send(...burst, { cmd: 'pingreq' });
    expect((await c.next())?.cmd).toBe('pingresp');
    c.end();
    await eventually(() => (gw.app.ingest.counters.rejected['backpressure'] ?? 0) >= 30);
    expect(cap.lines().filter((l) => String(l.msg).startsWith('mqtt: could not store'))).toEqual([]);
    expect(cap.lines().filter((l) => l.msg === 'mqtt: refused' && l.reason === 'backpressure')).toHaveLength(1);
    expect(cap.text()).not.toContain('"stack"');
  });
});
