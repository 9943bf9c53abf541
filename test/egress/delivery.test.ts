/** Egress against a real HTTP OEM endpoint that fails: retries, dead letters, and the log of both. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const SPEED_ONLY = `
oem: demo-oem
purposes:
  - id: speed
    description: Speed only.
    fields:
      Vehicle.Speed: pass
`;

describe('egress delivery', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      policy: SPEED_ONLY,
      config: {
        egress: { initialBackoffMs: 20, maxBackoffMs: 50, maxAttempts: 4, pollIntervalMs: 20, requestTimeoutMs: 1000 },
      },
    });
  });
  afterAll(async () => gw?.stop());

  const publish = async (speed: number) => {
    const car = gw.cars[0]!;
    const c = await gw.connect(car);
    await c.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed }), { qos: 1 });
    await c.endAsync();
  };

  it('retries while the OEM answers 503, logs each failed attempt, and delivers once it recovers', async () => {
    // Exactly two 503s, then 200: the outage ends by count, not by when the test looks (with
    // 20-50 ms backoff a slow poll used to miss it and see the row dead-lettered instead).
    gw.sink.failNext(2, 503);
    await publish(11);
    const d = await eventually(() => gw.sink.deliveries[0], 5_000, 'delivery after recovery');
    expect((d.body as { signals: unknown }).signals).toEqual({ 'Vehicle.Speed': 11 });
    // The outcome is committed after the OEM answered, so the log row follows the receipt.
    const log = await eventually(
      async () => {
        const rows = await gw.app.store.listEgressLog({ deliveryId: (d.body as { deliveryId: string }).deliveryId });
        return rows.at(-1)?.outcome === 'delivered' && rows;
      },
      5_000,
      'the delivered row',
    );
    expect(log.map((r) => [r.outcome, r.attempt, r.httpStatus, r.error ?? null])).toEqual([
      ['failed', 1, 503, 'HTTP 503'],
      ['failed', 2, 503, 'HTTP 503'],
      ['delivered', 3, 200, null],
    ]);
  });

  it('dead-letters after maxAttempts and keeps the row, never dropping it silently', async () => {
    gw.sink.setStatus(500);
    await publish(22);
    const dead = await eventually(
      async () => (await gw.app.store.listEgressLog()).find((r) => r.outcome === 'dead-lettered'),
      5_000,
      'a dead letter',
    );
    expect(dead).toMatchObject({ attempt: 4, httpStatus: 500 });
    expect((await gw.app.store.counts()).outboxDead).toBe(1);
    gw.sink.setStatus(200);
  });

  it('dead-letters at once when the OEM rejects the body with a 4xx (retrying cannot help)', async () => {
    gw.sink.setStatus(400);
    await publish(33);
    const dead = await eventually(
      async () => (await gw.app.store.listEgressLog()).filter((r) => r.outcome === 'dead-lettered')[1],
      5_000,
      'a second dead letter',
    );
    expect(dead).toMatchObject({ attempt: 1, httpStatus: 400 });
    gw.sink.setStatus(200);
  });
});
