/**
 * Roles as production runs them (docs/egress.md "Egress gets its share"): one `shekara start
 * --role ingest` and two `--role egress` processes (the built CLI) on one PostgreSQL schema, the
 * local outbox (rows leased in the store, FOR UPDATE SKIP LOCKED), real MQTT cars and a real HTTP
 * OEM that tells which process sent each delivery. What the OEM and a regulator would check:
 * - while both egress processes run, they share the work and the OEM gets each projection once
 *   (by delivery id): unlike SQLite, several delivering processes on one schema are allowed;
 * - `kill -9` of one egress process in the middle of a stream loses nothing acknowledged: the
 *   rows it had leased are due again when their lease ends and the survivor sends them, a repeat
 *   only of what the killed one had sent, with the same delivery id (at-least-once);
 * - the egress log has exactly one `delivered` entry per projection, on consecutive leaves.
 * Needs the build and PostgreSQL on 127.0.0.1:5432.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import { openPostgresStore } from '../../src/store/pg/index.js';
import { writeGatewayConfig } from '../egress/process.js';
import {
  killGateways,
  startAttributingOem,
  startGatewayProcess,
  type AttributingOem,
} from '../helpers/gateway-process.js';
import { eventually, whileProgressing } from '../helpers/wait.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `shk_roles_${process.pid}_${randomBytes(3).toString('hex')}`;
const CARS = 4;
/** The outbox lease (egress.leaseMs): the killed process's leased rows are due again after it. */
const LEASE_MS = 5_000;
const UP = /Shekara gateway is up\./;

describe('roles › one --role ingest and two --role egress on one PostgreSQL schema', () => {
  let dir: string;
  let oem: AttributingOem;
  let db: pg.Client;
  let configFile: string;
  const q = (table: string) => `"${SCHEMA}".${table}`;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-roles-pg-'));
    oem = await startAttributingOem();
    db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    // One file for the three processes: the role comes from `--role`, the key file is shared.
    configFile = writeGatewayConfig(
      dir,
      `http://127.0.0.1:${oem.port}/oem/telemetry`,
      { queue: { kind: 'local' }, leaseMs: LEASE_MS, requestTimeoutMs: 5_000 },
      { store: { kind: 'postgres', url: PG_URL, schema: SCHEMA, poolSize: 4 } },
    );
  });
  afterAll(async () => {
    await killGateways(); // also one still starting when a test timed out
    await oem.close();
    await db.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await db.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shares the work, loses nothing acknowledged across a kill -9 of one egress process, logs each projection once', async () => {
    const store = await openPostgresStore({ url: PG_URL, schema: SCHEMA, poolSize: 2 });
    const cars = await registerSimCars(store, CARS, 'demo-oem', 'LRPGE');
    await store.close();

    const ingest = await startGatewayProcess('ingest', configFile, {
      ready: /MQTT ingest\s+mqtt:\/\/[^:\s]+:(\d+)/,
      readyMs: 60_000,
      args: ['--role', 'ingest'],
    });
    const [e1, e2] = await Promise.all(
      ['egress-1', 'egress-2'].map((name) =>
        startGatewayProcess(name, configFile, { ready: UP, readyMs: 60_000, args: ['--role', 'egress'] }),
      ),
    );
    oem.knowProcess(e1!.child.pid!, 'egress-1');
    oem.knowProcess(e2!.child.pid!, 'egress-2');

    const clients: MqttClient[] = await Promise.all(
      cars.map((c) =>
        mqtt.connectAsync(`mqtt://127.0.0.1:${ingest.match[1]}`, {
          clientId: c.vin,
          username: c.vin,
          password: c.secret,
          protocolVersion: 4,
          reconnectPeriod: 0,
        }),
      ),
    );
    // Each car publishes one QoS 1 message after another; the odometer is the test's marker.
    const acked = new Set<number>();
    const publish = async (from: number, perCar: number) =>
      Promise.all(
        clients.map(async (client, i) => {
          for (let k = 0; k < perCar; k++) {
            const marker = (from + k) * CARS + i;
            await client.publishAsync(
              telemetryTopic(cars[i]!.vin),
              JSON.stringify({ ts: new Date().toISOString(), speed: marker % 100, odometer: marker }),
              { qos: 1 },
            );
            acked.add(marker);
            await new Promise((r) => setTimeout(r, 10));
          }
        }),
      );
    const sentBy = (name: string) => oem.deliveries.filter((d) => d.sentBy === name).length;

    // Both egress processes deliver, and no projection reaches the OEM twice while both run.
    await publish(0, 25);
    await whileProgressing(
      () => new Set(oem.deliveries.map((d) => d.deliveryId)).size === acked.size,
      () => oem.deliveries.length,
      { stallMs: 20_000, maxMs: 120_000, what: 'every projection of the first part' },
    );
    expect(sentBy('egress-1'), 'egress-1 delivered').toBeGreaterThan(0);
    expect(sentBy('egress-2'), 'egress-2 delivered').toBeGreaterThan(0);
    expect(oem.deliveries.filter((d) => d.sentBy === '?')).toEqual([]);
    expect(oem.deliveries).toHaveLength(acked.size);
    const beforeKill = oem.deliveries.length;

    // In the middle of the second part: kill -9 egress-1 once it is sending again.
    const streaming = publish(25, 50);
    const e1Before = sentBy('egress-1');
    await eventually(() => sentBy('egress-1') >= e1Before + 3, 60_000, 'egress-1 delivering in the second part');
    await new Promise<void>((resolve) => {
      e1!.child.once('exit', () => resolve());
      e1!.child.kill('SIGKILL');
    });
    await streaming;
    await Promise.all(clients.map((c) => c.endAsync(true)));

    // The survivor sends the rest, the killed one's leased rows once their lease ended.
    const markerOf = (body: string) =>
      (JSON.parse(body) as { signals: Record<string, unknown> }).signals['Vehicle.TraveledDistance'] as number;
    await whileProgressing(
      () => [...acked].every((m) => oem.deliveries.some((d) => markerOf(d.body) === m)),
      () => oem.deliveries.length,
      { stallMs: LEASE_MS + 20_000, maxMs: 180_000, what: 'every acknowledged record at the OEM' },
    );
    // A repeat only of what the killed process sent (its outcome was not yet durable), by the survivor, same id.
    const first = new Map<string, string>();
    const repeats: { id: string; firstBy: string; againBy: string }[] = [];
    for (const d of oem.deliveries.slice(beforeKill)) {
      const by = first.get(d.deliveryId);
      if (by === undefined) first.set(d.deliveryId, d.sentBy);
      else repeats.push({ id: d.deliveryId, firstBy: by, againBy: d.sentBy });
      expect(d.idempotencyKey).toBe(d.deliveryId);
    }
    expect(repeats.filter((r) => r.firstBy !== 'egress-1' || r.againBy !== 'egress-2')).toEqual([]);
    const ids = new Set(oem.deliveries.map((d) => d.deliveryId));
    expect(ids.size).toBe(acked.size);

    // The egress log, once every outcome is integrated: one `delivered` per projection, consecutive leaves.
    await eventually(
      async () =>
        (
          await db.query<{ n: string }>(
            `SELECT (SELECT count(*) FROM ${q('egress_outbox')} WHERE status = 'pending')
                  + (SELECT count(*) FROM ${q('egress_log_staged')}) AS n`,
          )
        ).rows[0]!.n === '0',
      60_000,
      'every outcome settled and integrated',
    );
    const log = (
      await db.query<{ leaf_index: string; delivery_id: string; outcome: string }>(
        `SELECT leaf_index, delivery_id, outcome FROM ${q('egress_log')} ORDER BY leaf_index`,
      )
    ).rows;
    const delivered = log.filter((r) => r.outcome === 'delivered').map((r) => r.delivery_id);
    expect(delivered).toHaveLength(acked.size);
    expect(new Set(delivered)).toEqual(ids);
    expect(log.map((r) => Number(r.leaf_index))).toEqual(log.map((_, i) => i));
    console.log(
      `roles-postgres: ${acked.size} records, ${oem.deliveries.length} POSTs (${repeats.length} repeats after the kill), ` +
        `egress-1 ${sentBy('egress-1')}, egress-2 ${sentBy('egress-2')}, log entries ${log.length}`,
    );
  }, 300_000);
});
