/**
 * A car's time (`ts`) within the accepted years but far from the time of receipt is flagged:
 * the record is stored with the car's time as sent and `clockSkew` ahead/behind, the flag is
 * counted in `shekara_ingest_clock_skew_total`, and the policy's per-vehicle time limits
 * (minInterval) go by the time of receipt for it. Real HTTPS posts to a real gateway, metrics
 * scraped from its Prometheus listener.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const POLICY = `
oem: demo-oem
purposes:
  - id: speed-profile
    description: Speed profile, no location.
    minInterval: PT1H
    fields:
      Vehicle.Speed: pass
`;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

describe('ingest › a car time far from the time of receipt', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 3,
      policy: POLICY,
      config: { telemetry: { metrics: { prometheus: { enabled: true, port: 0 } } } },
    });
  }, 30_000);
  afterAll(async () => gw?.stop());

  const post = async (i: number, body: Record<string, unknown>) => {
    const car = gw.cars[i]!;
    const res = await fetch(`${gw.httpUrl}/v1/vehicles/${car.vin}/telemetry`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${car.vin}:${car.secret}`).toString('base64')}`,
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as { recordId: string; projections: number };
    const stored = (await gw.app.store.getRecord(answer.recordId))!.record;
    return { projections: answer.projections, stored };
  };
  const skewCount = async (reason: string) => {
    const text = await (await fetch(`http://127.0.0.1:${gw.app.telemetry.metrics.prometheusPort}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('shekara_ingest_clock_skew_total{') && l.includes(`shekara_reason="${reason}"`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  it('is stored as sent with a flag, and counted; a plausible one is not flagged', async () => {
    const now = Date.now();
    const ahead = await post(0, { ts: new Date(now + 3 * HOUR_MS).toISOString(), speed: 50 });
    expect(ahead.stored.observedAt).toBe(now + 3 * HOUR_MS);
    expect(ahead.stored.clockSkew).toBe('ahead');
    const future = await post(0, { ts: '2099-12-31T00:00:00Z', speed: 50 });
    expect(future.stored).toMatchObject({ observedAt: Date.parse('2099-12-31T00:00:00Z'), clockSkew: 'ahead' });
    const behind = await post(1, { ts: now - 30 * DAY_MS, speed: 50 });
    expect(behind.stored).toMatchObject({ observedAt: now - 30 * DAY_MS, clockSkew: 'behind' });
    // A minute late, a day of buffering, or no time at all: nothing to distrust.
    for (const ts of [now - 60_000, now - DAY_MS, undefined]) {
      const { stored } = await post(2, { ...(ts !== undefined && { ts }), speed: 50 });
      expect(stored.clockSkew).toBeUndefined();
    }
    expect(await skewCount('ahead')).toBe(2);
    expect(await skewCount('behind')).toBe(1);
  });

  it('does not let a car escape minInterval by sending times far ahead', async () => {
    // Car 0's speed-profile projection above (3 h ahead) started its hour by the time of receipt.
    // A car clock that jumps forward (2099, then 3 h ahead again) is down-sampled all the same.
    for (const ts of ['2099-12-31T00:00:00Z', new Date(Date.now() + 5 * HOUR_MS).toISOString()])
      expect((await post(0, { ts, speed: 51 })).projections).toBe(0);
  });

  it('a plausible car time still goes by the car: data buffered two days is sent, as before', async () => {
    const buffered = await post(2, { ts: Date.now() - 2 * DAY_MS, speed: 52 });
    expect(buffered.stored.clockSkew).toBeUndefined();
    expect(buffered.projections).toBe(1);
  });
});
