/**
 * Metrics as an operator sees them: a real gateway with the Prometheus listener on, real cars
 * (MQTT and HTTPS, good and bad), a real OEM sink, then a scrape over HTTP of /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { telemetryTopic } from '../../src/ingest/index.js';
import { newCar, nextTelemetry } from '../../src/sim/telemetry.js';
import { DEMO_POLICY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { parseProm, type Sample } from '../helpers/prometheus.js';

/** The demo policy, plus a purpose that needs a consent no owner gave: it decides `blocked` for every record. */
const POLICY = `${DEMO_POLICY}
  - id: location-insights
    description: Needs the owner's consent; none was given.
    consentRequired: true
    fields:
      Vehicle.Speed: pass
`;

describe('metrics › scraped from the Prometheus listener after traffic', () => {
  let gw: TestGateway;
  let samples: Sample[];
  let scrapeText: string;
  /** The sum of the samples named `name` whose labels include `labels` (undefined when none). */
  const value = (name: string, labels: Record<string, string> = {}) => {
    const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    return hits.length === 0 ? undefined : hits.reduce((n, s) => n + s.value, 0);
  };

  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 2,
      policy: POLICY,
      config: { telemetry: { metrics: { prometheus: { enabled: true, port: 0 } } } },
    });
    const [a, b] = gw.cars as [{ vin: string; secret: string }, { vin: string; secret: string }];
    // Car A over MQTT: three good records and one that does not decode.
    const client = await gw.connect(a);
    const sim = newCar(a.vin, 0);
    for (let i = 0; i < 3; i++)
      await client.publishAsync(telemetryTopic(a.vin), JSON.stringify(nextTelemetry(sim, Date.now())), { qos: 1 });
    await client.publishAsync(telemetryTopic(a.vin), 'this is not JSON', { qos: 1 });
    // Car B over HTTPS: one good record.
    const auth = `Basic ${Buffer.from(`${b.vin}:${b.secret}`).toString('base64')}`;
    const ok = await fetch(`${gw.httpUrl}/v1/vehicles/${b.vin}/telemetry`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify(nextTelemetry(newCar(b.vin, 1), Date.now())),
    });
    expect(ok.status).toBe(202);
    // A wrong secret, once per channel.
    const bad = await fetch(`${gw.httpUrl}/v1/vehicles/${b.vin}/telemetry`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${b.vin}:wrong-secret-000000`).toString('base64')}` },
      body: '{}',
    });
    expect(bad.status).toBe(401);
    await expect(
      mqtt.connectAsync(gw.mqttUrl, {
        clientId: b.vin,
        username: b.vin,
        password: 'wrong-secret-000000',
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      }),
    ).rejects.toThrow();
    // 4 good records × 2 purposes = 8 crossings, each settled with its egress-log row.
    await eventually(async () => (await gw.app.store.counts()).egressLog >= 8, 10_000, '8 egress-log rows');
    // Deliveries run in the egress worker thread, which hands its metrics to this meter every
    // 100 ms: an operator's scrape shows them a moment after the outcomes are durable.
    await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${gw.app.telemetry.metrics.prometheusPort}/metrics`);
        expect(res.status).toBe(200);
        scrapeText = await res.text();
        samples = parseProm(scrapeText);
        return value('shekara_egress_deliveries_total') === 8 && value('shekara_egress_in_flight') === 0;
      },
      10_000,
      "the egress thread's 8 deliveries in the scrape",
    );
  });
  afterAll(async () => gw?.stop());

  it('counts what was stored and quarantined, per channel', () => {
    expect(value('shekara_ingest_messages_total', { shekara_channel: 'mqtt', shekara_outcome: 'stored' })).toBe(3);
    expect(value('shekara_ingest_messages_total', { shekara_channel: 'mqtt', shekara_outcome: 'quarantined' })).toBe(1);
    expect(value('shekara_ingest_messages_total', { shekara_channel: 'https', shekara_outcome: 'stored' })).toBe(1);
    expect(value('shekara_ingest_messages_total', { shekara_outcome: 'error' })).toBeUndefined();
  });

  it('counts refusals by channel and reason', () => {
    expect(value('shekara_ingest_rejects_total', { shekara_channel: 'mqtt', shekara_reason: 'bad-credentials' })).toBe(
      1,
    );
    expect(value('shekara_ingest_rejects_total', { shekara_channel: 'https', shekara_reason: 'bad-credentials' })).toBe(
      1,
    );
  });

  it('counts each policy decision by OEM, purpose and outcome', () => {
    for (const purpose of ['battery-warranty', 'speed-profile']) {
      expect(
        value('shekara_policy_decisions_total', {
          shekara_oem: 'demo-oem',
          shekara_purpose: purpose,
          shekara_outcome: 'approved',
        }),
      ).toBe(4);
    }
    expect(
      value('shekara_policy_decisions_total', { shekara_purpose: 'location-insights', shekara_outcome: 'blocked' }),
    ).toBe(4);
    expect(
      value('shekara_policy_decisions_total', { shekara_purpose: 'location-insights', shekara_outcome: 'approved' }),
    ).toBeUndefined();
  });

  it('counts deliveries by OEM and outcome, and times each one', () => {
    expect(value('shekara_egress_deliveries_total', { shekara_oem: 'demo-oem', shekara_outcome: 'delivered' })).toBe(8);
    expect(value('shekara_egress_deliveries_total', { shekara_outcome: 'failed' })).toBeUndefined();
    expect(
      value('shekara_egress_delivery_duration_count', { shekara_oem: 'demo-oem', shekara_outcome: 'delivered' }),
    ).toBe(8);
    expect(value('shekara_egress_delivery_duration_bucket', { shekara_oem: 'demo-oem', le: '+Inf' })).toBe(8);
    expect(value('shekara_egress_record_age_count', { shekara_oem: 'demo-oem' })).toBe(8);
    expect(gw.sink.deliveries).toHaveLength(8);
  });

  it('reports an empty queue and the one car still connected', () => {
    expect(value('shekara_egress_backlog')).toBe(0);
    expect(value('shekara_egress_lag')).toBe(0);
    expect(value('shekara_egress_in_flight')).toBe(0);
    // Counted in the egress thread: its POSTs went up and came back down, per OEM.
    expect(value('shekara_egress_posts_in_flight', { shekara_oem: 'demo-oem' })).toBe(0);
    expect(value('shekara_ingest_connections', { shekara_channel: 'mqtt' })).toBe(1);
  });

  it("counts the SQLite writer thread's transactions and the time it was busy", () => {
    // The records and the outcomes above were committed by it: at least one turn each way.
    expect(value('shekara_store_writer_turns_total')).toBeGreaterThanOrEqual(2);
    expect(value('shekara_store_writer_busy_total')).toBeGreaterThan(0);
    expect(value('shekara_store_writer_lock_wait_total')).toBeGreaterThanOrEqual(0);
  });

  it('exposes no VIN, pseudonym or payload value in any label', () => {
    for (const car of gw.cars) expect(scrapeText).not.toContain(car.vin);
    const pseudonym = (gw.sink.deliveries[0]!.body as { vehicle: string }).vehicle;
    expect(scrapeText).not.toContain(pseudonym);
  });

  it('is not served on the public HTTP port', async () => {
    expect((await fetch(`${gw.httpUrl}/metrics`)).status).toBe(404);
  });
});
