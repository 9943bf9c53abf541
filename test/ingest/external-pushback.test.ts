/**
 * External-broker mode when the store pushes back: each message waits in the committer's line
 * with its PUBACK to the broker withheld, then is stored once — none refused, none twice.
 * A real Mosquitto (private instance) and real mqtt.js cars.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';

describe('external broker mode › a broker faster than the store', () => {
  let mosq: TestMosquitto;
  let gw: TestGateway;
  beforeAll(async () => {
    mosq = await startMosquitto();
    gw = await startTestGateway({
      cars: 2,
      config: {
        mqtt: { mode: 'external', external: { url: `mqtt://127.0.0.1:${mosq.port}`, group: 'gw', connections: 1 } },
        ingest: { maxPendingRecords: 1, commitMaxBatch: 1 },
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await mosq?.stop();
  });

  it('stores every message once, after waiting in line', async () => {
    const perCar = 40;
    const cars = await Promise.all(
      gw.cars.map((c) => mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, { clientId: c.vin, protocolVersion: 5 })),
    );
    await Promise.all(
      cars.flatMap((p, i) =>
        Array.from({ length: perCar }, (_, n) =>
          p.publishAsync(telemetryTopic(gw.cars[i]!.vin), JSON.stringify({ speed: n }), { qos: 1 }),
        ),
      ),
    );
    await eventually(() => gw.app.ingest.counters.accepted === 2 * perCar, 20_000, 'every message stored');
    const counts = await gw.app.store.counts();
    expect(counts.records).toBe(2 * perCar);
    expect(counts.quarantine).toBe(0);
    await Promise.all(cars.map((p) => p.endAsync()));
  });
});
