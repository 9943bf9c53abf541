/**
 * External-broker mode against a real Mosquitto (the machine's binary, a private instance on
 * its own port): two Shekara instances in one shared-subscription group split the cars'
 * telemetry, every message is stored exactly once in the country, and the PUBACK to the broker
 * waits for the commit.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';

describe('external broker mode (Mosquitto, MQTT 5 shared subscriptions)', () => {
  let mosq: TestMosquitto;
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    mosq = await startMosquitto();
    const external = (prefix: string) => ({
      mqtt: {
        mode: 'external',
        external: { url: `mqtt://127.0.0.1:${mosq.port}`, group: 'gw', connections: 2, clientIdPrefix: prefix },
      },
    });
    a = await startTestGateway({ cars: 6, config: external('shekara-a') });
    // Instance B shares A's store file here only so both see the same vehicle registry;
    // what each stored is counted separately through its own ingest counters. It only ingests:
    // on one SQLite file at most one process delivers (docs/egress.md).
    b = await startTestGateway({ cars: 0, config: { ...external('shekara-b'), dataDir: a.dir, role: 'ingest' } });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await mosq?.stop();
  });

  it('shares the load between instances and stores every message once', async () => {
    const cars = a.cars;
    const publishers = await Promise.all(
      cars.map((c) => mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, { clientId: c.vin, protocolVersion: 5 })),
    );
    const perCar = 20;
    await Promise.all(
      publishers.map((p, i) =>
        Promise.all(
          Array.from({ length: perCar }, (_, n) =>
            p.publishAsync(telemetryTopic(cars[i]!.vin), JSON.stringify({ speed: n }), { qos: 1 }),
          ),
        ),
      ),
    );
    const total = cars.length * perCar;
    await eventually(
      () => a.app.ingest.counters.accepted + b.app.ingest.counters.accepted === total,
      10_000,
      `${total} records stored`,
    );
    expect((await a.app.store.counts()).records).toBe(total);
    expect(a.app.ingest.counters.accepted).toBeGreaterThan(0);
    expect(b.app.ingest.counters.accepted).toBeGreaterThan(0);
    await Promise.all(publishers.map((p) => p.endAsync()));
  });

  it('quarantines telemetry for a VIN that is not registered, instead of dropping it', async () => {
    const p = await mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, { clientId: 'stranger', protocolVersion: 5 });
    await p.publishAsync('vehicles/LZZZZ000000000077/telemetry', '{"speed":1}', { qos: 1 });
    const q = await eventually(async () => (await a.app.store.listQuarantine(1))[0], 5_000, 'a quarantined payload');
    expect(q.reason).toContain('unregistered vehicle');
    await p.endAsync();
  });
});
