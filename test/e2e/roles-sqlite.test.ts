/**
 * Roles on one SQLite file, with real processes (`shekara start --role …`, the built CLI), real
 * MQTT and a real HTTP OEM: at most ONE process may deliver from the file (docs/egress.md "Egress
 * gets its share"). Without the guard a second `--role egress` starts and sends the first one's
 * rows again (its outbox leases are in memory): a third or more of the projections reached the
 * OEM twice when measured. So the second delivering process (`--role egress` or `all`) exits 1
 * with SHK_EGRESS_DELIVERING_ELSEWHERE naming the file and the holder, a `--role ingest` beside
 * the holder starts, and after `kill -9` of the holder (no shutdown, the lock is the kernel's to
 * drop) a new egress process starts at once and delivers what was waiting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { writeGatewayConfig } from '../egress/process.js';
import {
  killGateways,
  startAttributingOem,
  startGatewayProcess,
  type AttributingOem,
} from '../helpers/gateway-process.js';
import { runProcess } from '../helpers/run.js';
import { eventually } from '../helpers/wait.js';

const UP = /Shekara gateway is up\./;

describe('roles › one SQLite file', () => {
  let dir: string;
  let oem: AttributingOem;
  let configFile: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-roles-sqlite-'));
    oem = await startAttributingOem();
    // The local queue: the one whose leases live in memory on SQLite.
    configFile = writeGatewayConfig(dir, `http://127.0.0.1:${oem.port}/oem/telemetry`, { queue: { kind: 'local' } });
  });
  afterAll(async () => {
    await killGateways(); // also one still starting when a test timed out
    await oem.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second delivering process, naming the file and the holder; after kill -9 of the holder a new one delivers', async () => {
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    const [car] = await registerSimCars(store, 1, 'demo-oem', 'LKXLL');
    await store.close();

    const first = await startGatewayProcess('egress-1', configFile, {
      ready: UP,
      readyMs: 60_000,
      args: ['--role', 'egress'],
    });
    // The refused process is run to its end; on a build without the guard it would run until killed here.
    const second = (role: string) =>
      runProcess(process.execPath, ['bin/shekara.js', 'start', '-c', configFile, '--role', role], { timeout: 30_000 });
    for (const role of ['egress', 'all']) {
      const refused = await second(role);
      expect(refused.status, `--role ${role}: ${refused.stderr}`).toBe(1);
      expect(refused.stderr).toContain('shekara: SHK_EGRESS_DELIVERING_ELSEWHERE: ');
      expect(refused.stderr).toContain(path.join(dir, 'shekara.db'));
      expect(refused.stderr).toContain(`pid ${first.child.pid} on host ${hostname()}`);
      expect(refused.stdout).not.toMatch(UP);
    }

    // Ingest beside the holder is what the rule allows; its records wait for the one deliverer.
    const ingest = await startGatewayProcess('ingest', configFile, {
      ready: /MQTT ingest\s+mqtt:\/\/[^:\s]+:(\d+)/,
      readyMs: 60_000,
      args: ['--role', 'ingest'],
    });
    await new Promise<void>((resolve) => {
      first.child.once('exit', () => resolve());
      first.child.kill('SIGKILL');
    });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ingest.match[1]}`, {
      clientId: car!.vin,
      username: car!.vin,
      password: car!.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await client.publishAsync(telemetryTopic(car!.vin), JSON.stringify({ speed: 50, odometer: 4_242 }), { qos: 1 });
    await client.endAsync(true);

    // No lock left behind by the killed holder: the next egress process starts and delivers.
    const next = await startGatewayProcess('egress-2', configFile, {
      ready: UP,
      readyMs: 60_000,
      args: ['--role', 'egress'],
    });
    oem.knowProcess(next.child.pid!, 'egress-2');
    const [delivered] = await eventually(() => oem.deliveries.length > 0 && oem.deliveries, 30_000, 'the delivery');
    expect(delivered!.sentBy).toBe('egress-2');
    expect(
      (JSON.parse(delivered!.body) as { signals: Record<string, unknown> }).signals['Vehicle.TraveledDistance'],
    ).toBe(4_242);
    // And it now holds the lock in turn.
    const third = await second('egress');
    expect(third.status).toBe(1);
    expect(third.stderr).toContain(`pid ${next.child.pid} on host`);
  }, 180_000);
});
