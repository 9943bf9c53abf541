/**
 * The policy's stateful rules across a `kill -9` of the gateway PROCESS (black-box review D4: after
 * a restart two projections went out 20 s apart under `minInterval: PT30S`): minimum interval,
 * trip state, k-anonymity counts; and MQTT QoS 2 exactly-once, whose packet ids live in the store. Real parts: the built CLI (`shekara start`, run `npm run build`
 * first) on a SQLite file, real MQTT cars, a real HTTP server as the OEM. The process is killed
 * with SIGKILL (no shutdown, nothing flushed) and started again on the same store; what the OEM
 * receives afterwards is what is checked.
 * It runs beside other files: every world has its own SQLite file, ports and OEM server, and
 * no load is timed, so another file beside it costs it only time (hence each case's 60 s).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createStore, describeStore } from '../../src/store/index.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import { eventually } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';
import { killGateways, spawnGateway, startAttributingOem, type GatewayProcess } from '../helpers/gateway-process.js';
import { connackCode, RawCar, type Version } from '../helpers/raw-mqtt.js';

const SPARSE = `oem: demo-oem
purposes:
  - id: sparse
    description: at most one speed reading per 30 seconds and vehicle
    minInterval: PT30S
    fields:
      Vehicle.Speed: pass
`;
const TRIPS = `oem: demo-oem
purposes:
  - id: where
    description: generalized positions, never near where trips start or end
    tripEndpoints: { radiusMeters: 500 }
    fields:
      Vehicle.Speed: pass
      Vehicle.CurrentLocation: { transform: generalize, method: h3, resolution: 8 }
`;
const CROWD = `oem: demo-oem
purposes:
  - id: crowd
    description: a cell only once two vehicles were seen in it
    kAnonymity: { k: 2, window: PT15M, otherwise: drop }
    fields:
      Vehicle.Speed: pass
      Vehicle.CurrentLocation: { transform: generalize, method: h3, resolution: 7 }
`;
const SPEED = `oem: demo-oem
purposes:
  - id: speed
    description: every speed reading
    fields:
      Vehicle.Speed: pass
`;
const HOME = { lat: 43.2389, lon: 76.8897 };
/** A point `east` degrees of longitude east of home (0.01° is about 810 m here) and `north` degrees north. */
const near = (east: number, north = 0) => ({ lat: HOME.lat + north, lon: HOME.lon + east });

interface Car {
  readonly vin: string;
  readonly secret: string;
}

/** One gateway's world: a store directory, an OEM endpoint, cars, and a gateway process on demand. */
async function world(policy: string, cars: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-restart-'));
  const oem = await startAttributingOem();
  writeFileSync(path.join(dir, 'policy.yaml'), policy);
  const started: GatewayProcess[] = [];
  const storeConfig = () => parseConfig(stringify({ dataDir: dir, oems: [] }), 'store.yaml', dir, { env: {} });
  const store = await createStore(storeConfig().store, dir);
  let creds: Car[];
  try {
    creds = await registerSimCars(store, cars, 'demo-oem', 'LRSTR');
  } finally {
    await store.close();
  }

  /** A config on fresh ports, the same store. */
  const boot = async (): Promise<GatewayProcess> => {
    const ports = { mqtt: await freePort(), http: await freePort() };
    const configFile = path.join(dir, 'shekara.yaml');
    writeFileSync(
      configFile,
      stringify({
        dataDir: dir,
        mqtt: { host: '127.0.0.1', port: ports.mqtt },
        http: { host: '127.0.0.1', port: ports.http },
        egress: { initialBackoffMs: 20, maxBackoffMs: 100, pollIntervalMs: 50, requestTimeoutMs: 2_000 },
        oems: [
          {
            id: 'demo-oem',
            endpoint: `http://127.0.0.1:${oem.port}/oem/telemetry`,
            policyFile: 'policy.yaml',
            allowPrivateNetworks: true,
          },
        ],
        log: { level: 'warn' },
      }),
    );
    const g = await spawnGateway(`gw${started.length}`, configFile, ports);
    started.push(g);
    return g;
  };
  const connect = (g: GatewayProcess, car: Car): Promise<MqttClient> =>
    mqtt.connectAsync(g.mqttUrl, {
      clientId: car.vin,
      username: car.vin,
      password: car.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
  /** Resolves on the PUBACK: the record is stored and its projections decided. */
  const send = (client: MqttClient, car: Car, atMs: number, payload: Record<string, unknown>) =>
    client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ ts: new Date(atMs).toISOString(), ...payload }), {
      qos: 1,
    });
  /** The signals the OEM received, a repeat (same Idempotency-Key: at-least-once after a kill) counted once. */
  const received = () =>
    [...new Map(oem.deliveries.map((d) => [d.idempotencyKey, d.body])).values()].map(
      (body) => (JSON.parse(body) as { signals: Record<string, unknown> }).signals,
    );
  /** The signals of every projection ever made (the outbox keeps settled rows), read once the gateway is gone. */
  const projected = () => {
    const config = storeConfig();
    const db = new Database(describeStore(config.store, config.dataDir), { readonly: true });
    try {
      return db
        .prepare<[], { body: string }>(`SELECT body FROM egress_outbox ORDER BY id`)
        .all()
        .map((r) => (JSON.parse(r.body) as { signals: Record<string, unknown> }).signals);
    } finally {
      db.close();
    }
  };
  /** Records in the store, read beside the running gateway (or after it). */
  const records = () => {
    const config = storeConfig();
    const db = new Database(describeStore(config.store, config.dataDir), { readonly: true });
    try {
      return db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM records`).get()!.n;
    } finally {
      db.close();
    }
  };
  return {
    cars: creds,
    boot,
    connect,
    send,
    received,
    projected,
    records,
    async close() {
      for (const g of started) await g.stop('SIGKILL');
      await oem.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('policy state across a kill -9 of the gateway process', () => {
  const worlds: Awaited<ReturnType<typeof world>>[] = [];
  afterAll(async () => {
    for (const w of worlds) await w.close();
    await killGateways(); // one still starting when a step timed out is not in `started`
  });
  const open = async (policy: string, cars = 1) => {
    const w = await world(policy, cars);
    worlds.push(w);
    return w;
  };

  it('minInterval: a record 20 s after one sent before the kill is withheld, one 31 s after is sent', async () => {
    const w = await open(SPARSE);
    const car = w.cars[0]!;
    const t0 = Date.now() - 120_000;
    const first = await w.boot();
    let client = await w.connect(first, car);
    await w.send(client, car, t0, { speed: 41 });
    await eventually(() => w.received().length === 1, 15_000, 'the first delivery');
    client.end(true);
    await first.stop('SIGKILL');

    const back = await w.boot();
    client = await w.connect(back, car);
    await w.send(client, car, t0 + 20_000, { speed: 42 });
    await w.send(client, car, t0 + 31_000, { speed: 43 });
    await eventually(() => w.received().length >= 2, 15_000, 'a delivery after the restart');
    await client.endAsync();
    await back.stop('SIGTERM');
    expect(w.received()).toEqual([{ 'Vehicle.Speed': 41 }, { 'Vehicle.Speed': 43 }]);
    // 42 never became a projection: nothing of it is queued to go later either.
    expect(w.projected()).toEqual([{ 'Vehicle.Speed': 41 }, { 'Vehicle.Speed': 43 }]);
  }, 60_000);

  it('trips: a trip started at home before the kill still keeps positions near home after it', async () => {
    const w = await open(TRIPS);
    const car = w.cars[0]!;
    const t0 = Date.now() - 120_000;
    const first = await w.boot();
    let client = await w.connect(first, car);
    await w.send(client, car, t0, { ignition: true, speed: 0, position: HOME }); // the trip starts at home
    await w.send(client, car, t0 + 10_000, { speed: 50, position: near(0.05) });
    client.end(true);
    await first.stop('SIGKILL'); // no save after these two: they come back from the records

    const back = await w.boot();
    client = await w.connect(back, car);
    // Without the trip state, the first point after the restart would be taken for the trip's start,
    // and the next one, 220 m from home, would be held and then released with its cell.
    await w.send(client, car, t0 + 20_000, { speed: 50, position: near(0.06) });
    await w.send(client, car, t0 + 30_000, { speed: 30, position: near(0, 0.002) });
    await w.send(client, car, t0 + 40_000, { speed: 51, position: near(0.07) });
    await eventually(
      () => w.received().some((s) => s['Vehicle.Speed'] === 30),
      15_000,
      'the delivery of the point near home',
    );
    await client.endAsync();
    await back.stop('SIGTERM');
    expect(w.received().find((s) => s['Vehicle.Speed'] === 30)).toEqual({ 'Vehicle.Speed': 30 });
    expect(w.projected().filter((s) => s['Vehicle.Speed'] === 30)).toEqual([{ 'Vehicle.Speed': 30 }]);
  }, 60_000);

  it('k-anonymity: a vehicle counted before the kill still counts after it', async () => {
    const w = await open(CROWD, 2);
    const [a, b] = w.cars as [Car, Car];
    const t0 = Date.now() - 60_000;
    const first = await w.boot();
    let client = await w.connect(first, a);
    await w.send(client, a, t0, { speed: 61, position: near(0.2) }); // alone in its cell: no cell sent
    await eventually(() => w.received().length === 1, 15_000, 'the first delivery');
    client.end(true);
    await first.stop('SIGKILL');

    const back = await w.boot();
    client = await w.connect(back, b);
    await w.send(client, b, t0, { speed: 62, position: near(0.2) }); // the second vehicle in that cell
    await eventually(() => w.received().length >= 2, 15_000, 'the second delivery');
    await client.endAsync();
    await back.stop('SIGTERM');
    const [alone, second] = w.received();
    expect(alone).toEqual({ 'Vehicle.Speed': 61 });
    expect(second).toMatchObject({ 'Vehicle.Speed': 62, 'Vehicle.CurrentLocation.H3Cell': expect.any(String) });
  }, 60_000);
});

describe('MQTT QoS 2 across a kill -9 of the gateway process', () => {
  let w: Awaited<ReturnType<typeof world>> | undefined;
  afterAll(async () => {
    await w?.close();
    await killGateways();
  });

  it('answers the DUP of a PUBLISH it PUBRECed before the kill with PUBREC, and stores it once', async () => {
    w = await world(SPEED, 2);
    const cars: [Car, Version][] = [
      [w.cars[0]!, 4],
      [w.cars[1]!, 5],
    ];
    // A persistent session: 3.1.1 Clean Session 0, MQTT 5 a Session Expiry Interval.
    const persistent = (v: Version) =>
      v === 5 ? { clean: false, properties: { sessionExpiryInterval: 600 } } : { clean: false };
    const port = (g: GatewayProcess) => Number(new URL(g.mqttUrl).port);
    const first = await w.boot();
    for (const [car, v] of cars) {
      const c = await RawCar.open(port(first), v);
      expect(connackCode(await c.connect(car, persistent(v)))).toBe(0);
      c.send(c.publish(telemetryTopic(car.vin), JSON.stringify({ speed: 90 + v }), 2, 9));
      // PUBREC: the record and its packet id are committed together. The PUBREL never comes.
      expect(await c.next()).toMatchObject({ cmd: 'pubrec', messageId: 9 });
      c.end();
    }
    await first.stop('SIGKILL');
    const stored = w.records();
    expect(stored).toBe(2);

    const back = await w.boot();
    for (const [car, v] of cars) {
      const c = await RawCar.open(port(back), v);
      expect(connackCode(await c.connect(car, persistent(v)))).toBe(0);
      // The car never saw its PUBREC: it sends the PUBLISH again, DUP set, same packet id.
      c.send(c.publish(telemetryTopic(car.vin), JSON.stringify({ speed: 90 + v }), 2, 9, true));
      expect(await c.next()).toMatchObject({ cmd: 'pubrec', messageId: 9 });
      c.send({ cmd: 'pubrel', messageId: 9 });
      expect(await c.next()).toMatchObject({ cmd: 'pubcomp', messageId: 9 });
      c.end();
    }
    expect(w.records()).toBe(stored);
    // What the OEM sees: each reading once (a second record would be a second delivery).
    await eventually(() => w!.received().length === 2, 15_000, 'the two deliveries');
    await back.stop('SIGTERM');
    expect(w.received()).toEqual(expect.arrayContaining([{ 'Vehicle.Speed': 94 }, { 'Vehicle.Speed': 95 }]));
    expect(w.projected()).toHaveLength(2);
  }, 60_000);
});
