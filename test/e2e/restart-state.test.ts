/**
 * The policy's stateful rules across a `kill -9` of the gateway PROCESS (black-box review D4: after
 * a restart two projections went out 20 s apart under `minInterval: PT30S`). Real parts: the built
 * CLI (`shekara start`, run `npm run build` first) on a SQLite file, a real MQTT car, a real HTTP
 * server as the OEM. The process is killed with SIGKILL (no shutdown, nothing flushed) and started
 * again on the same store; what the OEM receives afterwards is what is checked.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createStore, describeStore } from '../../src/store/index.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import { eventually } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';
import {
  spawnGateway,
  startAttributingOem,
  type AttributingOem,
  type GatewayProcess,
} from '../helpers/gateway-process.js';

const POLICY = `oem: demo-oem
purposes:
  - id: sparse
    description: at most one speed reading per 30 seconds and vehicle
    minInterval: PT30S
    fields:
      Vehicle.Speed: pass
`;

interface Car {
  readonly vin: string;
  readonly secret: string;
}

describe('policy state across a kill -9 of the gateway process', () => {
  let dir: string;
  let oem: AttributingOem;
  let configFile: string;
  const started: GatewayProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-restart-'));
    oem = await startAttributingOem();
    writeFileSync(path.join(dir, 'policy.yaml'), POLICY);
  });
  afterAll(async () => {
    for (const g of started) await g.stop('SIGKILL');
    await oem?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A config on fresh ports, the same store; the first call also registers the car. */
  const boot = async (): Promise<GatewayProcess> => {
    const ports = { mqtt: await freePort(), http: await freePort() };
    const text = stringify({
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
    });
    configFile = path.join(dir, 'shekara.yaml');
    writeFileSync(configFile, text);
    const g = await spawnGateway(`gw${started.length}`, configFile, ports);
    started.push(g);
    return g;
  };

  const storeConfig = () => parseConfig(stringify({ dataDir: dir, oems: [] }), 'store.yaml', dir, { env: {} });
  const register = async (): Promise<Car> => {
    const config = storeConfig();
    const store = await createStore(config.store, config.dataDir, config.keys);
    try {
      return (await registerSimCars(store, 1, 'demo-oem', 'LRSTR'))[0]!;
    } finally {
      await store.close();
    }
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
  /** What the OEM received, a repeat (same Idempotency-Key: at-least-once after a kill) counted once. */
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

  it('minInterval: a record 20 s after one sent before the kill is withheld, one 31 s after is sent', async () => {
    const car = await register();
    const t0 = Date.now() - 120_000;
    const first = await boot();
    let client = await connect(first, car);
    await send(client, car, t0, { speed: 41 });
    await eventually(() => oem.deliveries.length === 1, 15_000, 'the first delivery');
    client.end(true);
    await first.stop('SIGKILL');

    const back = await boot();
    client = await connect(back, car);
    await send(client, car, t0 + 20_000, { speed: 42 });
    await send(client, car, t0 + 31_000, { speed: 43 });
    await eventually(() => received().length >= 2, 15_000, 'a delivery after the restart');
    await client.endAsync();
    await back.stop('SIGTERM');
    expect(received()).toEqual([{ 'Vehicle.Speed': 41 }, { 'Vehicle.Speed': 43 }]);
    // 42 never became a projection: nothing of it is queued to go later either.
    expect(projected()).toEqual([{ 'Vehicle.Speed': 41 }, { 'Vehicle.Speed': 43 }]);
  });
});
