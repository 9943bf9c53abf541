/**
 * Must show, with a real gateway process (embedded default: SQLite, local queue, deliveries in
 * the worker thread), real MQTT cars and a real HTTP OEM: `kill -9` after the OEM answered 2xx
 * to a batch but before the outcome is durable. On restart the batch is sent again with the
 * same ids, and the egress log holds exactly one `delivered` entry per projection.
 *
 * "Before the outcome is durable" is made certain, not hoped for: the test holds the database's
 * write lock (BEGIN IMMEDIATE on its own connection) from before the OEM answers until after the
 * kill, so the gateway's settle transaction cannot commit in between.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import { telemetryTopic } from '../../src/ingest/index.js';
import { BATCH_CONTENT_TYPE } from '../../src/egress/index.js';
import { eventually } from './helpers.js';
import { kill9, MARKER_POLICY, spawnEgressGateway } from './process.js';
import { killGateways } from '../helpers/gateway-process.js';

interface Item {
  readonly idempotencyKey: string;
  readonly recordId: string;
  readonly marker: number;
}

/** A real OEM endpoint: each POST's items; `hold` keeps the answers back until `answerAll`. */
function startOem() {
  const received: Item[][] = [];
  const held: ServerResponse[] = [];
  let hold = true;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const itemOf = (key: string, body: { recordId: string; signals: Record<string, unknown> }): Item => ({
        idempotencyKey: key,
        recordId: body.recordId,
        marker: body.signals['Vehicle.TraveledDistance'] as number,
      });
      received.push(
        req.headers['content-type'] === BATCH_CONTENT_TYPE
          ? (
              JSON.parse(text) as {
                items: { idempotencyKey: string; body: { recordId: string; signals: Record<string, unknown> } }[];
              }
            ).items.map((i) => itemOf(i.idempotencyKey, i.body))
          : [itemOf(String(req.headers['idempotency-key']), JSON.parse(text))],
      );
      if (hold) held.push(res);
      else res.writeHead(200).end('{}');
    });
  });
  return {
    received,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/oem/telemetry`),
        ),
      ),
    /** Answers every held POST 200; resolves once each answer is written to its socket. */
    answerAll: () =>
      Promise.all(
        held.splice(0).map((res) => new Promise<void>((resolve) => res.writeHead(200).end('{}', () => resolve()))),
      ),
    release() {
      hold = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('egress › kill -9 between the OEM 2xx and the durable outcome', () => {
  let dir: string;
  const oem = startOem();
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-kill2xx-'));
  });
  afterAll(async () => {
    await killGateways(); // also one still starting when the test timed out
    await oem.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the batch again with the same ids; the egress log has one delivered entry per projection', async () => {
    const endpoint = await oem.listen();
    writeFileSync(path.join(dir, 'policy.yaml'), MARKER_POLICY);
    const configFile = path.join(dir, 'shekara.yaml');
    writeFileSync(
      configFile,
      stringify({
        dataDir: dir,
        mqtt: { host: '127.0.0.1', port: 0 },
        http: { host: '127.0.0.1', port: 0 },
        egress: { initialBackoffMs: 50, maxBackoffMs: 500, requestTimeoutMs: 20_000, pollIntervalMs: 50 },
        oems: [
          {
            id: 'demo-oem',
            endpoint,
            policyFile: 'policy.yaml',
            allowPrivateNetworks: true,
            batch: { maxRecords: 10, maxBytes: 1_048_576, maxWaitMs: 200 },
          },
        ],
        log: { level: 'warn' },
      }),
    );
    const dbFile = path.join(dir, 'shekara.db');
    const store = openSqliteStore(dbFile);
    const cars = await registerSimCars(store, 10, 'demo-oem', 'LKXLL');
    await store.close();

    const gw = await spawnEgressGateway(configFile);
    // One message per car (one projection each): all acknowledged, so all durable.
    const clients = await Promise.all(
      cars.map((c) =>
        mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, {
          clientId: c.vin,
          username: c.vin,
          password: c.secret,
          protocolVersion: 4,
          reconnectPeriod: 0,
        }),
      ),
    );
    await Promise.all(
      clients.map((client, i) =>
        client.publishAsync(
          telemetryTopic(cars[i]!.vin),
          JSON.stringify({ ts: new Date().toISOString(), speed: 50, odometer: 1_000 + i }),
          { qos: 1 },
        ),
      ),
    );
    await Promise.all(clients.map((c) => c.endAsync(true)));

    // Every projection is on the wire, its answer held back by the OEM.
    await eventually(() => oem.received.flat().length >= 10, 30_000, 'all ten projections at the OEM');
    const first = oem.received.flat();
    expect(oem.received.some((batch) => batch.length > 1)).toBe(true); // batched, not one by one

    // The write lock, then the 2xx: the gateway has its answers and cannot make them durable.
    const lock = new Database(dbFile);
    lock.pragma('busy_timeout = 20000');
    lock.exec('BEGIN IMMEDIATE');
    try {
      await oem.answerAll();
      // Give the gateway time to read the answers and reach its settle (which waits on the lock).
      await new Promise((r) => setTimeout(r, 500));
      expect(lock.prepare(`SELECT COUNT(*) FROM egress_log WHERE outcome = 'delivered'`).pluck().get()).toBe(0);
      await kill9(gw);
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }

    oem.release();
    const before = oem.received.length;
    await spawnEgressGateway(configFile); // killed in afterAll
    await eventually(
      () => {
        const again = new Set(
          oem.received
            .slice(before)
            .flat()
            .map((i) => i.idempotencyKey),
        );
        return first.every((i) => again.has(i.idempotencyKey));
      },
      30_000,
      'every projection sent again',
    );
    // The same ids: the key and the record id of each marker are those of the first send.
    const resent = oem.received.slice(before).flat();
    for (const i of first) {
      const again = resent.find((r) => r.marker === i.marker)!;
      expect(again.idempotencyKey).toBe(i.idempotencyKey);
      expect(again.recordId).toBe(i.recordId);
    }

    // Exactly one durable `delivered` entry per projection.
    const read = new Database(dbFile, { readonly: true });
    try {
      const rows = await eventually(
        () => {
          const r = read
            .prepare(
              `SELECT record_id, purpose, COUNT(*) AS n FROM egress_log WHERE outcome = 'delivered' GROUP BY record_id, purpose`,
            )
            .all() as { record_id: string; purpose: string; n: number }[];
          return r.length >= 10 && r;
        },
        30_000,
        'ten delivered entries',
      );
      expect(rows).toHaveLength(10);
      expect(rows.map((r) => r.n)).toEqual(Array(10).fill(1));
    } finally {
      read.close();
    }
  }, 180_000);
});
