/**
 * Deliveries apart from the ingest event loop: by default the gateway delivers from a worker
 * thread with its own store connection; `--role ingest` delivers nothing and `--role egress`
 * delivers what another process ingested, from the same store. Real MQTT cars, a real HTTP OEM.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { telemetryTopic } from '../../src/ingest/index.js';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('egress apart from ingest', () => {
  const gateways: TestGateway[] = [];
  const apps: App[] = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const g of gateways.reverse()) await g.stop();
  });

  it('delivers from a worker thread by default, each outcome in the egress log', async () => {
    const gw = await startTestGateway();
    gateways.push(gw);
    expect(gw.app.egress.runsIn).toBe('thread');
    const car = gw.cars[0]!;
    const client = await gw.connect(car);
    for (let i = 0; i < 5; i++)
      await client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: i, odometer: 100 + i }), { qos: 1 });
    await eventually(() => gw.sink.deliveries.length >= 10, 20_000, 'ten deliveries (two purposes × five)');
    const log = await eventually(
      async () => {
        const rows = (await gw.app.store.listEgressLog({})).filter((r) => r.outcome === 'delivered');
        return rows.length >= 10 && rows;
      },
      10_000,
      'ten delivered entries',
    );
    // Five records, two purposes each: one delivered entry per projection.
    expect(log).toHaveLength(10);
    expect(new Set(log.map((r) => r.recordId)).size).toBe(5);
    await eventually(() => gw.app.egress.inFlight === 0, 5_000, 'nothing in flight');
  }, 60_000);

  // top -H, ps -L and a CPU account per thread (bench/kafka-e2e.ts) tell the threads apart by name.
  it.runIf(process.platform === 'linux')(
    'names its egress and writer threads for the OS',
    async () => {
      const gw = await startTestGateway({ store: 'sqlite' });
      gateways.push(gw);
      const names = readdirSync('/proc/self/task').map((tid) => {
        try {
          return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        } catch {
          return ''; // ended meanwhile
        }
      });
      expect(names).toContain('shk-egress');
      expect(names).toContain('shk-writer');
    },
    60_000,
  );

  it('--role ingest delivers nothing; --role egress on the same store delivers it all', async () => {
    const ingest = await startTestGateway({ config: { role: 'ingest' } });
    gateways.push(ingest);
    expect(ingest.app.egress.runsIn).toBe('none');
    const car = ingest.cars[0]!;
    const client = await ingest.connect(car);
    for (let i = 0; i < 3; i++)
      await client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: i, odometer: 100 + i }), { qos: 1 });
    // Acknowledged (durable), and waiting in the outbox: this process sends nothing.
    expect(await ingest.app.store.outboxBacklog()).toBe(6);
    expect(ingest.sink.deliveries).toHaveLength(0);

    const config = parseConfig(
      stringify({
        dataDir: ingest.dir,
        role: 'egress',
        mqtt: { host: '127.0.0.1', port: 0 },
        http: { host: '127.0.0.1', port: 0 },
        egress: { initialBackoffMs: 20, maxBackoffMs: 100, pollIntervalMs: 50, requestTimeoutMs: 2_000 },
        oems: [
          {
            id: 'demo-oem',
            endpoint: `http://127.0.0.1:${ingest.sink.port}/oem/telemetry`,
            policyFile: 'policy.yaml',
            allowPrivateNetworks: true,
          },
        ],
        log: { level: 'silent' },
        ...(ingest.storeConfig ? { store: ingest.storeConfig } : {}),
      }),
      'egress-role.yaml',
      ingest.dir,
      { env: {} },
    );
    const egress = await buildApp(config, { log: createLogger('silent') });
    apps.push(egress);
    expect(egress.egress.runsIn).toBe('main');
    expect(egress.mqttPort).toBeUndefined();
    await eventually(() => ingest.sink.deliveries.length >= 6, 20_000, 'six deliveries from the egress process');
    await eventually(async () => (await egress.store.outboxBacklog()) === 0, 5_000, 'an empty backlog');
    // No HTTPS ingest in an egress process.
    const res = await fetch(`http://127.0.0.1:${egress.httpPort}/v1/vehicles/${car.vin}/telemetry`, {
      method: 'POST',
      body: JSON.stringify({ speed: 1 }),
      headers: {
        authorization: `Basic ${Buffer.from(`${car.vin}:${car.secret}`).toString('base64')}`,
        'content-type': 'application/json',
      },
    });
    expect(res.status).toBe(404);
  }, 60_000);
});
