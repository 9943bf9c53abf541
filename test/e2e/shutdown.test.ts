/**
 * SIGTERM under load, as an operator's orchestrator sends it: the gateway process stops within
 * its bound, exits 0, and every message a car got a PUBACK for is in the local store.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import { telemetryTopic } from '../../src/ingest/index.js';
import { freePort } from '../helpers/net.js';
import { eventually } from '../helpers/wait.js';

describe('graceful shutdown', () => {
  it('loses nothing acknowledged when SIGTERM arrives in the middle of a publish load', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-sigterm-'));
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    copyFileSync('examples/policies/demo-oem.yaml', path.join(dir, 'demo-oem.yaml'));
    const config = path.join(dir, 'shekara.yaml');
    writeFileSync(
      config,
      [
        'dataDir: .',
        `mqtt: { host: 127.0.0.1, port: ${mqttPort} }`,
        `http: { host: 127.0.0.1, port: ${httpPort} }`,
        'limits: { messagesPerSecond: 10000, messageBurst: 10000 }',
        'oems:',
        // Nobody listens there: deliveries fail and wait in the outbox, which is what a restart resumes.
        `  - { id: demo-oem, endpoint: 'http://127.0.0.1:9/none', policyFile: demo-oem.yaml }`,
        'log: { level: warn }',
        'shutdownTimeoutMs: 10000',
      ].join('\n'),
    );
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    const cars = await registerSimCars(store, 8, 'demo-oem', 'LSTPX');
    await store.close();

    const gateway = spawn('node', ['bin/shekara.js', 'start', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => gateway.once('exit', (code) => r(code)));
    let stderr = '';
    gateway.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    await new Promise<void>((resolve, reject) => {
      gateway.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('Try it')) resolve();
      });
      gateway.once('exit', () => reject(new Error(`gateway exited before it was up:\n${stderr}`)));
    });

    const acked: string[] = [];
    const clients = await Promise.all(
      cars.map((c) =>
        mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          clientId: c.vin,
          username: c.vin,
          password: c.secret,
          protocolVersion: 4,
          keepalive: 30,
          reconnectPeriod: 0,
        }),
      ),
    );
    let stop = false;
    const loads = clients.map(async (client, i) => {
      for (let seq = 0; !stop && client.connected; seq++) {
        const id = `${cars[i]!.vin}:${seq}`;
        try {
          await client.publishAsync(telemetryTopic(cars[i]!.vin), JSON.stringify({ speed: seq % 100, probe: id }), {
            qos: 1,
          });
          acked.push(id);
        } catch {
          return; // the connection went away with the gateway: unacknowledged, so the car would resend
        }
      }
    });
    // SIGTERM lands in the middle of the load: once well over a hundred messages were acknowledged.
    await eventually(() => acked.length > 150, 30_000, '150 acknowledged messages');
    const sentAtTerm = acked.length;
    gateway.kill('SIGTERM');
    const code = await exited;
    stop = true;
    // A publish whose PUBACK never came may stay pending in mqtt.js forever: that message was
    // not acknowledged, so it is not counted; only `acked` matters.
    void loads;
    for (const c of clients) c.end(true);

    expect(code).toBe(0);
    expect(sentAtTerm).toBeGreaterThan(100);
    // Read the store file directly, as an operator would after the stop.
    const db = new Database(path.join(dir, 'shekara.db'), { readonly: true });
    const stored = new Set(
      db.prepare(`SELECT json_extract(CAST(raw AS TEXT), '$.probe') FROM records`).pluck().all() as string[],
    );
    db.close();
    const lost = acked.filter((id) => !stored.has(id));
    expect({ acknowledged: acked.length, lost: lost.length }).toEqual({ acknowledged: acked.length, lost: 0 });
  }, 60_000);
});
