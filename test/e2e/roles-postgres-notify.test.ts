/**
 * A `--role egress` process on PostgreSQL hears of the rows an ingest process commits at once
 * (LISTEN/NOTIFY, src/store/pg/outbox-signal.ts), not at its next idle poll: real processes (the
 * built CLI, `--role ingest` and `--role egress` on one schema), a real MQTT car and a real HTTP
 * OEM. The egress process polls every 60 s; the test marks the moment 30 s after it was up, before
 * which no poll of it can have read a row committed after it was up (its reads then: one at start,
 * then one a poll interval after the last). The record MUST reach the OEM before that mark. No
 * duration is asserted: the order of the events is. Needs the build and PostgreSQL on 127.0.0.1:5432.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
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
import { eventually } from '../helpers/wait.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `shk_notify_${process.pid}_${randomBytes(3).toString('hex')}`;
const POLL_MS = 60_000;
/** Before this long after the egress process was up, no poll of it can read a row committed after. */
const NO_POLL_BEFORE_MS = 30_000;

describe('roles › a --role egress process on PostgreSQL', () => {
  let dir: string;
  let oem: AttributingOem;
  let configFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-notify-pg-'));
    oem = await startAttributingOem();
    configFile = writeGatewayConfig(
      dir,
      `http://127.0.0.1:${oem.port}/oem/telemetry`,
      { queue: { kind: 'local' }, pollIntervalMs: POLL_MS },
      { store: { kind: 'postgres', url: PG_URL, schema: SCHEMA, poolSize: 4 } },
    );
  });
  afterAll(async () => {
    await killGateways();
    await oem.close();
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await db.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers a record an ingest process committed before its idle poll could have read it', async () => {
    const store = await openPostgresStore({ url: PG_URL, schema: SCHEMA, poolSize: 2 });
    const [car] = await registerSimCars(store, 1, 'demo-oem', 'LRPGN');
    await store.close();
    const ingest = await startGatewayProcess('ingest', configFile, {
      ready: /MQTT ingest\s+mqtt:\/\/[^:\s]+:(\d+)/,
      readyMs: 60_000,
      args: ['--role', 'ingest'],
    });
    await startGatewayProcess('egress', configFile, {
      ready: /Shekara gateway is up\./,
      readyMs: 60_000,
      args: ['--role', 'egress'],
    });

    const events: string[] = ['egress up'];
    const mark = setTimeout(() => events.push('a poll could have read it'), NO_POLL_BEFORE_MS);
    oem.onDelivery = () => void events.push('delivered');
    try {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ingest.match[1]}`, {
        clientId: car!.vin,
        username: car!.vin,
        password: car!.secret,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      await client.publishAsync(
        telemetryTopic(car!.vin),
        JSON.stringify({ ts: new Date().toISOString(), speed: 42, odometer: 7 }),
        { qos: 1 },
      );
      events.push('acknowledged');
      await client.endAsync(true);
      await eventually(
        () => events.includes('delivered') || events.includes('a poll could have read it'),
        POLL_MS * 2,
        'the delivery or the mark',
      );
    } finally {
      clearTimeout(mark);
      oem.onDelivery = undefined;
    }
    expect(events.slice(0, 3)).toEqual(['egress up', 'acknowledged', 'delivered']);
    expect(oem.deliveries).toHaveLength(1);
  }, 180_000);
});
