/**
 * External-broker mode with two gateway processes (`shekara start`) on one PostgreSQL schema,
 * consuming `$share/shekara/vehicles/+/telemetry` from a private Mosquitto. Cars publish QoS 1
 * streams to the broker; one instance is killed with SIGKILL in the middle of the stream and
 * started again, as a supervisor does (same clientIdPrefix: it resumes its sessions, where the
 * broker kept what was in flight to it and what it queued for it meanwhile). Every publish the
 * broker acknowledged to a car ends up as exactly one stored record (lost = 0, and a message
 * the killed instance stored without its PUBACK, which the broker resends, is not stored twice),
 * and every projection is settled at the OEM server. Kept small (4 cars, 5 messages a second
 * each) so it runs in CI: external ingest drains a resumed session one commit per message per
 * connection.
 * A SIGKILL rarely falls between a commit and its PUBACK; test/ingest/external-redelivery.test.ts
 * makes that case happen every time.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { openPostgresStore } from '../../src/store/pg/index.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import { newCar, nextTelemetry, type SimCar } from '../../src/sim/telemetry.js';
import { whileOutboxSettles, whileProgressing } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import {
  killGateways,
  spawnGateway,
  startAttributingOem,
  type AttributingOem,
  type GatewayProcess,
} from '../helpers/gateway-process.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `shk_extcrash_${process.pid}_${randomBytes(3).toString('hex')}`;
const CARS = 4;
// examples/policies/demo-oem.yaml has two purposes and every simulated record carries fields of both.
const PURPOSES = 2;

interface Car {
  readonly vin: string;
  readonly sim: SimCar;
}

describe('external broker › two gateway processes, one killed mid-stream', () => {
  let dir: string;
  let mosq: TestMosquitto;
  let oem: AttributingOem;
  let db: pg.Client;
  let cars: Car[];
  const started: GatewayProcess[] = [];
  /** Probes of the publishes the broker acknowledged (PUBACK to the car). */
  const acked: string[] = [];
  const q = (table: string) => `"${SCHEMA}".${table}`;

  const start = async (name: string) => {
    mkdirSync(path.join(dir, name), { recursive: true, mode: 0o700 });
    const file = path.join(dir, name, 'shekara.yaml');
    const ports = { mqtt: await freePort(), http: await freePort() };
    writeFileSync(
      file,
      stringify({
        dataDir: '.',
        keys: { dir: path.join(dir, 'keys') },
        mqtt: {
          mode: 'external',
          external: { url: mosq.url, group: 'shekara', connections: 2, clientIdPrefix: `shk-${name}` },
        },
        http: { host: '127.0.0.1', port: ports.http },
        store: { kind: 'postgres', url: PG_URL, schema: SCHEMA, poolSize: 4 },
        // The rows the killed instance had leased are due again after leaseMs (30 s by default).
        egress: {
          initialBackoffMs: 50,
          maxBackoffMs: 500,
          pollIntervalMs: 50,
          requestTimeoutMs: 2_000,
          leaseMs: 8_000,
        },
        oems: [
          {
            id: 'demo-oem',
            endpoint: `http://127.0.0.1:${oem.port}/oem/telemetry`,
            policyFile: '../demo-oem.yaml',
            allowPrivateNetworks: true,
          },
        ],
        log: { level: 'warn' },
      }),
    );
    const g = await spawnGateway(name, file, ports, 120_000);
    oem.knowProcess(g.pid, name);
    started.push(g);
    return g;
  };

  /** Every car publishes QoS 1 to the broker, one message each 200 ms, until stopped; PUBACKed probes are kept. */
  const stream = () => {
    let stopping = false;
    const drive = async (car: Car, client: MqttClient) => {
      for (let m = 0; !stopping; m++) {
        const probe = `${car.vin}:${m}`;
        await client.publishAsync(
          telemetryTopic(car.vin),
          JSON.stringify({ ...nextTelemetry(car.sim, Date.now()), probe }),
          { qos: 1 },
        );
        acked.push(probe);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const clients = cars.map((car) =>
      mqtt.connectAsync(mosq.url, { clientId: car.vin, protocolVersion: 5, reconnectPeriod: 0 }),
    );
    const driving = Promise.all(clients.map(async (c, i) => drive(cars[i]!, await c)));
    return {
      async stop() {
        stopping = true;
        await driving;
        await Promise.all(clients.map(async (c) => (await c).endAsync()));
      },
    };
  };

  const storedProbes = async () =>
    (
      await db.query<{ id: string; probe: string }>(
        `SELECT id, convert_from(raw, 'UTF8')::jsonb->>'probe' AS probe FROM ${q('records')}`,
      )
    ).rows;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-extcrash-'));
    copyFileSync('examples/policies/demo-oem.yaml', path.join(dir, 'demo-oem.yaml'));
    mosq = await startMosquitto();
    oem = await startAttributingOem();
    db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    const store = await openPostgresStore({ url: PG_URL, schema: SCHEMA, poolSize: 2 });
    cars = (await registerSimCars(store, CARS, 'demo-oem', 'LXCRA')).map((c, i) => ({
      vin: c.vin,
      sim: newCar(c.vin, i),
    }));
    await store.close();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(started.map((g) => g.stop('SIGKILL')));
    await killGateways(); // one still starting when a step timed out is not in `started`
    await db?.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await db?.end();
    await oem?.close();
    await mosq?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing the broker acknowledged when one instance is killed (SIGKILL) mid-stream; every projection settles', async () => {
    const [a, b] = await Promise.all([start('a'), start('b')]);
    const s = stream();
    // Each wait on the stream is bounded by a stall of what it counts, not by a total (which the
    // machine's load decides): the broker's acknowledgements, and the rows stored.
    let stored = 0;
    await whileProgressing(
      async () => (stored = (await storedProbes()).length) >= 40,
      () => stored + acked.length,
      { stallMs: 30_000, maxMs: 300_000, what: 'both instances storing' },
    );
    const code = await a.stop('SIGKILL');
    expect(code).toBeNull(); // killed by the signal
    const atKill = acked.length;
    const streamed = (n: number, what: string) =>
      whileProgressing(
        () => acked.length >= atKill + n,
        () => acked.length,
        { stallMs: 30_000, maxMs: 300_000, what },
      );
    // The stream goes on: b takes the share of the live sessions; the broker keeps a's in its sessions.
    await streamed(80, 'the stream going on after the kill');
    const a2 = await start('a');
    await streamed(160, 'the stream with a back');
    await s.stop();

    const ackedSet = new Set(acked);
    let missingNow = acked.length;
    const progress = setInterval(
      () => console.log(`[external-crash] not stored yet: ${missingNow} of ${acked.length}`),
      10_000,
    );
    // Bounded by a stall, not by the total: the sessions' backlog drains one commit per message
    // per connection, so its time follows the machine's load; a message lost for good stops it.
    const records = await whileProgressing(
      async () => {
        const rows = await storedProbes();
        const have = new Set(rows.map((r) => r.probe));
        missingNow = acked.filter((p) => !have.has(p)).length;
        return missingNow === 0 && rows;
      },
      () => missingNow,
      { stallMs: 60_000, maxMs: 300_000, what: 'every acknowledged publish stored' },
    );
    clearInterval(progress);
    const byProbe = new Map<string, string[]>();
    for (const r of records) byProbe.set(r.probe, [...(byProbe.get(r.probe) ?? []), r.id]);
    const lost = acked.filter((p) => !byProbe.has(p));
    const duplicated = [...byProbe].filter(([, ids]) => ids.length > 1);
    const unacked = records.filter((r) => !ackedSet.has(r.probe));
    console.log(
      `[external-crash] acknowledged by the broker ${acked.length} (${atKill} before the SIGKILL); records ${records.length}; ` +
        `lost ${lost.length}; probes stored more than once ${duplicated.length}; records of unacknowledged publishes ${unacked.length}`,
    );
    expect(lost).toEqual([]);
    // What the killed instance stored without its PUBACK came again, and was recognised.
    expect(duplicated).toEqual([]);
    expect(unacked).toEqual([]);

    await whileOutboxSettles(db, q('egress_outbox'), { stallMs: 60_000, maxMs: 300_000 });
    const projections = (
      await db.query<{ record_id: string; status: string }>(`SELECT record_id, status FROM ${q('egress_outbox')}`)
    ).rows;
    const delivered = new Set(oem.deliveries.map((d) => d.idempotencyKey));

    console.log(
      `[external-crash] settled: projections ${projections.length}, OEM deliveries ${oem.deliveries.length} (${delivered.size} distinct); ` +
        `sent by ${JSON.stringify(Object.fromEntries(['a', 'b', '?'].map((n) => [n, oem.deliveries.filter((d) => d.sentBy === n).length])))}`,
    );
    expect(projections.filter((p) => p.status !== 'delivered')).toEqual([]);
    expect(projections).toHaveLength(records.length * PURPOSES);
    // Each projection reached the OEM (a repeat after the kill carries the same key).
    expect(delivered.size).toBe(projections.length);
    void b;
    void a2;
  }, 600_000);
});
