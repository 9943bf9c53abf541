/**
 * Boots a real gateway (the MQTT car endpoint on a TCP socket, fastify, SQLite file in a temp dir) against a
 * real HTTP OEM sink, both on ephemeral loopback ports. Cars in tests are real mqtt.js clients.
 *
 * With SHEKARA_TEST_STORE=postgres (`npm test` runs the API and end-to-end suites a second time
 * so) a test that does not choose its store gets the machine's PostgreSQL instead: one schema
 * per test directory, so a restart on the same `dir` finds its data, dropped on `stop()`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pg from 'pg';
import { stringify } from 'yaml';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startOemSink, type OemSink } from '../../src/sim/oem-sink.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import { eventually } from './wait.js';

/** Re-exported: most gateway tests wait with it (the toolbox is test/helpers/). */
export { eventually };

export const DEMO_POLICY = `
oem: demo-oem
purposes:
  - id: battery-warranty
    description: Diagnose traction-battery faults under warranty.
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.Powertrain.TractionBattery.StateOfCharge.Current: pass
      Vehicle.TraveledDistance: pass
  - id: speed-profile
    description: Speed profile, no location.
    fields:
      Vehicle.Speed: pass
`;

/** The demo OEM with one purpose only: one record makes exactly one projection, one crossing. */
export const ONE_PURPOSE_POLICY = `
oem: demo-oem
purposes:
  - id: speed-profile
    description: Speed profile, no location.
    fields:
      Vehicle.Speed: pass
`;

export interface TestGateway {
  readonly app: App;
  readonly sink: OemSink;
  readonly dir: string;
  readonly mqttUrl: string;
  readonly httpUrl: string;
  readonly cars: { vin: string; secret: string }[];
  /** The `store` config section this gateway runs on, for a CLI config beside it (undefined: the default SQLite file in `dir`). */
  readonly storeConfig: Record<string, unknown> | undefined;
  connect(car: { vin: string; secret: string }, opts?: IClientOptions): Promise<MqttClient>;
  /** `keepDir`: leave the store for a restart on the same `dir`. */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

/** `oem`: extra keys for the demo OEM's entry (e.g. `propagateTraceContext`); `log`: where the gateway logs (silent by default,
 * SHEKARA_TEST_LOG_LEVEL=error shows the gateway's own errors while a test is debugged); `dir`: reuse a store left by an
 * earlier gateway's `stop({ keepDir: true })` (a restart). */
export async function startTestGateway(
  opts: {
    cars?: number;
    config?: Record<string, unknown>;
    policy?: string;
    oem?: Record<string, unknown>;
    log?: Logger;
    dir?: string;
    /**
     * The store to run on, whatever SHEKARA_TEST_STORE says: for suites that run on both
     * (`describe.each(BOTH_STORES)`). PostgreSQL gets the directory's own schema, dropped by stop().
     */
    store?: StoreKind;
  } = {},
): Promise<TestGateway> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'shekara-test-'));
  const sink = await startOemSink({ port: 0 });
  writeFileSync(path.join(dir, 'policy.yaml'), opts.policy ?? DEMO_POLICY);
  const cfgObj = {
    dataDir: dir,
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    egress: { initialBackoffMs: 20, maxBackoffMs: 100, pollIntervalMs: 50, requestTimeoutMs: 2_000 },
    oems: [
      {
        id: 'demo-oem',
        endpoint: `http://127.0.0.1:${sink.port}/oem/telemetry`,
        policyFile: 'policy.yaml',
        allowPrivateNetworks: true,
        ...opts.oem,
      },
    ],
    log: { level: 'silent' },
    ...(onPostgres(opts) ? { store: { kind: 'postgres', url: TEST_PG_URL, schema: schemaOf(dir), poolSize: 4 } } : {}),
    ...opts.config,
  };
  const config = parseConfig(stringify(cfgObj), 'test-config.yaml', dir, { env: {} });
  const app = await buildApp(config, {
    log:
      opts.log ?? createLogger((process.env.SHEKARA_TEST_LOG_LEVEL ?? 'silent') as Parameters<typeof createLogger>[0]),
  });
  const cars = await registerSimCars(app.store, opts.cars ?? 2, 'demo-oem', 'LTEST');
  const mqttUrl = `mqtt://127.0.0.1:${app.mqttPort}`;
  const clients: MqttClient[] = [];
  return {
    app,
    sink,
    dir,
    mqttUrl,
    cars,
    storeConfig: (cfgObj as { store?: Record<string, unknown> }).store,
    httpUrl: `http://127.0.0.1:${app.httpPort}`,
    async connect(car, extra = {}) {
      const c = await mqtt.connectAsync(mqttUrl, {
        clientId: car.vin,
        username: car.vin,
        password: car.secret,
        protocolVersion: 4,
        keepalive: 30,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        ...extra,
      });
      clients.push(c);
      return c;
    },
    async stop(stopOpts = {}) {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      await app.close();
      await sink.close();
      if (stopOpts.keepDir) return;
      rmSync(dir, { recursive: true, force: true });
      if (onPostgres(opts)) await dropSchema(schemaOf(dir));
    },
  };
}

const TEST_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

export type StoreKind = 'sqlite' | 'postgres';

/** Both stores, for `describe.each`: a suite that must hold on each runs once per store. */
export const BOTH_STORES: readonly StoreKind[] = ['sqlite', 'postgres'];

/**
 * True when this test gateway runs on PostgreSQL: the test asked for it (`store`), or the
 * environment did and the test did not pick a store itself.
 */
const onPostgres = (opts: { store?: StoreKind; config?: Record<string, unknown> }) =>
  opts.store !== undefined
    ? opts.store === 'postgres'
    : process.env.SHEKARA_TEST_STORE === 'postgres' && !(opts.config && 'store' in opts.config);

/** The schema of a test directory: its unique temp name, as a valid identifier. */
const schemaOf = (dir: string) =>
  `shk_test_${path
    .basename(dir)
    .replace(/[^A-Za-z0-9]/g, '_')
    .toLowerCase()}`;

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** Resolves when the client is closed by the server (or rejects if it stays up for `ms`). */
export function closedByServer(client: MqttClient, ms = 3_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!client.connected) return resolve();
    const t = setTimeout(() => reject(new Error('the server did not close the connection')), ms);
    client.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** The values of `signal` the OEM accepted, in the order it got them, once there are at least `n`. */
export const deliveredSignal = (gw: TestGateway, signal: string, n: number) =>
  eventually(
    () => {
      const s = gw.sink.deliveries
        .map((d) => (d.body as { signals: Record<string, number> }).signals[signal])
        .filter((v) => v !== undefined);
      return s.length >= n && s;
    },
    15_000,
    'every acknowledged record delivered',
  );

/** Egress that retries fast and never dead-letters: rows wait for the OEM to come back (pushback tests). */
export const QUICK_EGRESS_RETRIES = {
  initialBackoffMs: 20,
  maxBackoffMs: 50,
  pollIntervalMs: 20,
  requestTimeoutMs: 1_000,
  maxAttempts: 100,
  breaker: { failureThreshold: 3, openMs: 100 },
};
