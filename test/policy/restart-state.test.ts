/**
 * `minInterval` across a restart (black-box review D4): after a restart the gateway sent two
 * projections 20 s apart under `minInterval: PT30S`. The last send per purpose and vehicle is
 * durable (its outbox row commits with the record) and is reloaded when the policy starts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const POLICY = `oem: demo-oem
purposes:
  - id: sparse
    description: at most one speed reading per 30 seconds and vehicle
    minInterval: PT30S
    fields:
      Vehicle.Speed: pass
`;

// SHEKARA_TEST_STORE=postgres runs it on PostgreSQL.
describe('minimum interval across a restart', () => {
  const running: TestGateway[] = [];
  afterAll(async () => {
    for (const gw of running.reverse()) await gw.stop();
  });
  const send = async (client: MqttClient, vin: string, atMs: number, speed: number) =>
    client.publishAsync(telemetryTopic(vin), JSON.stringify({ ts: new Date(atMs).toISOString(), speed }), { qos: 1 });

  it('holds for a record 20 s after one sent before the restart, and lets one 31 s after through', async () => {
    const first = await startTestGateway({ cars: 1, policy: POLICY });
    const car = first.cars[0]!;
    const t0 = Date.now() - 120_000;
    let client = await first.connect(car);
    await send(client, car.vin, t0, 41);
    await eventually(() => first.sink.deliveries.length === 1, 10_000, 'the first delivery');
    await client.endAsync();
    await first.stop({ keepDir: true });

    const back = await startTestGateway({ cars: 0, dir: first.dir, policy: POLICY });
    running.push(back);
    client = await back.connect(car);
    await send(client, car.vin, t0 + 20_000, 42); // PUBACK: stored, and its projections decided
    await send(client, car.vin, t0 + 31_000, 43);
    const [d] = await eventually(() => back.sink.deliveries.length >= 1 && back.sink.deliveries, 10_000, 'a delivery');
    await client.endAsync();
    expect((await back.app.store.counts()).records).toBe(3);
    expect((d!.body as { signals: Record<string, number> }).signals).toEqual({ 'Vehicle.Speed': 43 });
    // The 20 s one never became a projection: nothing of it is queued, now or later.
    expect(back.sink.deliveries).toHaveLength(1);
    expect((await back.app.store.counts()).outboxPending).toBe(0);
  });
});
