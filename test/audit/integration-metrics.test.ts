/**
 * The egress log's integration as an operator watches it: a real gateway (SQLite, or PostgreSQL
 * with SHEKARA_TEST_STORE=postgres) with the Prometheus listener on, a real car, a real OEM
 * sink, then scrapes of /metrics. The integrator is slowed to one round a minute, so on
 * PostgreSQL the delivered outcomes wait staged and the scrape shows how many and for how long;
 * on SQLite nothing ever waits (integrated in the settle transaction) and both read 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { newCar, nextTelemetry } from '../../src/sim/telemetry.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const onPostgres = process.env.SHEKARA_TEST_STORE === 'postgres';

describe('metrics › the egress log integration, scraped', () => {
  let gw: TestGateway;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${gw.app.telemetry.metrics.prometheusPort}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const value = (name: string) => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    return {
      staged: value('shekara_audit_staged'),
      age: value('shekara_audit_integration_age'),
      delivered: value('shekara_egress_deliveries_total'),
    };
  };

  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 1,
      config: {
        telemetry: { metrics: { prometheus: { enabled: true, port: 0 } } },
        // One integration round at start, the next a minute later; no checkpoint (a reader) meanwhile.
        audit: { integrateIntervalMs: 60_000, checkpointIntervalMs: 3_600_000 },
      },
    });
  });
  afterAll(async () => gw?.stop());

  it('reports the outcomes waiting for integration and how long the oldest has waited', async () => {
    const car = gw.cars[0]!;
    const client = await gw.connect(car);
    const sim = newCar(car.vin, 0);
    const before = Date.now();
    for (let i = 0; i < 3; i++)
      await client.publishAsync(telemetryTopic(car.vin), JSON.stringify(nextTelemetry(sim, Date.now())), { qos: 1 });
    await client.endAsync();
    // 3 records × the demo policy's 2 purposes, every outcome settled (durable).
    const m = await eventually(
      async () => {
        const s = await scrape();
        return (s.delivered ?? 0) >= 6 && (!onPostgres || (s.staged ?? 0) >= 6) && s;
      },
      20_000,
      'six deliveries settled',
    );
    if (onPostgres) {
      expect(m.staged).toBe(6);
      expect(m.age).toBeGreaterThan(0);
      expect(m.age).toBeLessThanOrEqual((Date.now() - before) / 1000);
      // A reader integrates what it asks about first: then nothing waits.
      expect((await gw.app.store.counts()).egressLog).toBe(6);
      expect(await scrape()).toMatchObject({ staged: 0, age: 0 });
    } else {
      expect(m).toMatchObject({ staged: 0, age: 0 });
    }
  });
});
