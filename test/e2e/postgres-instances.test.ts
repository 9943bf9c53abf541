/**
 * Scale-out on PostgreSQL, end to end over real sockets: two gateways share one schema (as two
 * instances behind a load balancer would), cars publish to both, both egress through the local
 * queue to one OEM. Each projection reaches it once, and the two instances build one egress log
 * with consecutive leaves and one root. (Separate processes over Kafka, with the load split and
 * one instance stopped: scale-out.test.ts.)
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { newCar, nextTelemetry } from '../../src/sim/telemetry.js';
import { rootFromLeafHashes } from '../../src/audit/merkle.js';
import { entryLeafHash } from '../../src/audit/leaf.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `shk_e2e_${process.pid}_${randomBytes(3).toString('hex')}`;
const CARS = 6;
const MESSAGES = 5;

describe('two gateways on one PostgreSQL store', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    const store = { kind: 'postgres', url: PG_URL, schema, poolSize: 4 };
    a = await startTestGateway({ cars: CARS, config: { store } });
    // The OEM registry is shared: both instances must name the same endpoint (a's sink).
    const oems = [
      {
        id: 'demo-oem',
        endpoint: `http://127.0.0.1:${a.sink.port}/oem/telemetry`,
        policyFile: 'policy.yaml',
        allowPrivateNetworks: true,
      },
    ];
    // Instances sharing a store share its key file (docs/deployment.md "Hardening").
    b = await startTestGateway({ cars: 0, config: { store, oems, keys: { dir: path.join(a.dir, 'keys') } } });
    // Each car talks to both instances, as a load balancer may send it after a reconnect.
    const clients = await Promise.all(a.cars.map((car, i) => (i % 2 === 0 ? a : b).connect(car)));
    const other = await Promise.all(
      a.cars.map((car, i) => (i % 2 === 0 ? b : a).connect(car, { clientId: `${car.vin}` })),
    );
    for (let m = 0; m < MESSAGES; m++) {
      await Promise.all(
        a.cars.map((car, i) =>
          (m % 2 === 0 ? clients : other)[i]!.publishAsync(
            telemetryTopic(car.vin),
            JSON.stringify(nextTelemetry(newCar(car.vin, i), Date.now())),
            { qos: 1 },
          ),
        ),
      );
    }
    // Two purposes per record.
    await eventually(
      async () => (await a.app.store.counts()).egressLog >= CARS * MESSAGES * 2,
      20_000,
      'every projection settled',
    );
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });

  it('delivers every projection once, whichever instance took the record or sent it', async () => {
    const sent = a.sink.deliveries.map((d) => d.body as { deliveryId: string; purpose: string });
    const keys = sent.map((x) => x.deliveryId);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(CARS * MESSAGES * 2);
    expect(b.sink.deliveries).toHaveLength(0);
    expect((await a.app.store.counts()).records).toBe(CARS * MESSAGES);
  });

  it('builds one egress log: consecutive leaves, one root both instances sign', async () => {
    const entries = await b.app.store.searchEgress({}, 0, 1_000);
    expect(entries.map((e) => e.leafIndex)).toEqual(entries.map((_, i) => i));
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.every((e) => e.outcome === 'delivered')).toBe(true);
    const leaves = await a.app.store.exportLeaves(-1, 1_000, 1_000);
    const root = rootFromLeafHashes(leaves.map((l) => entryLeafHash(l.entry)));
    const [cpA, cpB] = await Promise.all([a.app.audit.checkpointNow(), b.app.audit.checkpointNow()]);
    expect(cpA.size).toBe(leaves.length);
    expect(cpA.root).toEqual(root);
    expect(cpB.root).toEqual(root);
  });
});
