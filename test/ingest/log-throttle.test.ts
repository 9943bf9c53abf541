/**
 * Expected conditions logged in aggregate: a car over its rate, refused again and again, is
 * counted per refusal in metrics but logged at most once per interval, with the count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogThrottle } from '../../src/log-throttle.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { captureLog, type LogCapture } from '../helpers/log-capture.js';

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
