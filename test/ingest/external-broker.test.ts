/**
 * External-broker mode against a real Mosquitto (the machine's binary, a private instance on
 * its own port): two Shekara instances in one shared-subscription group split the cars'
 * telemetry, every message is stored exactly once in the country, and the PUBACK to the broker
 * waits for the commit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';

async function startMosquitto(): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-mosq-'));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nmax_queued_messages 100000\n`,
  );
  const proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const until = Date.now() + 5_000;
  for (;;) {
    const ok = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 }).then(
      (c) => c.endAsync(true).then(() => true),
      () => false,
    );
    if (ok) break;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, proc };
}

describe('external broker mode (Mosquitto, MQTT 5 shared subscriptions)', () => {
  let mosq: { port: number; proc: ChildProcess };
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
    // what each stored is counted separately through its own ingest counters.
    b = await startTestGateway({ cars: 0, config: { ...external('shekara-b'), dataDir: a.dir } });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    mosq?.proc.kill('SIGTERM');
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
