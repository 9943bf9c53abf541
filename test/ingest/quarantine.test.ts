/** A payload that does not decode is kept, counted and never egressed — over MQTT and HTTPS. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('quarantine', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw?.stop());

  it('acknowledges a malformed JSON payload only once it is stored in quarantine, with the reason', async () => {
    const car = gw.cars[0]!;
    const c = await gw.connect(car);
    await c.publishAsync(telemetryTopic(car.vin), '{"speed": 50, ', { qos: 1 });
    const q = await gw.app.store.listQuarantine();
    expect(q).toHaveLength(1);
    expect(q[0]!.reason).toMatch(/not valid JSON/);
    expect(q[0]!.raw.toString()).toBe('{"speed": 50, ');
    expect(q[0]!.vin).toBe(car.vin);
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it.each([
    ['a JSON array', '[1,2]', /must be a JSON object/],
    ['a speed that is not a number', '{"speed":"fast"}', /speed: expected a float/],
    ['a latitude out of range', '{"position":{"lat":91,"lon":10}}', /^position.lat: above the maximum 90$/],
    ["another car's VIN in the body", '{"vin":"LZZZZ000000000009","speed":1}', /vin: does not match/],
    ['a timestamp from 1970', '{"ts":0,"speed":1}', /ts: expected/],
  ])('quarantines %s with a reason', async (_what, body, reason) => {
    const car = gw.cars[1]!;
    const c = await gw.connect(car);
    await c.publishAsync(telemetryTopic(car.vin), body, { qos: 1 });
    expect((await gw.app.store.listQuarantine(1))[0]!.reason).toMatch(reason);
    await c.endAsync();
  });

  it('never puts a quarantined payload in the outbox or the egress log', async () => {
    // No wait: each payload above was PUBACKed after its commit, and an outbox row would have been
    // written in that same transaction, then stays counted (pending, or logged once sent).
    const counts = await gw.app.store.counts();
    expect(counts.quarantine).toBe(6);
    expect(counts.records).toBe(0);
    expect(counts.outboxPending + counts.egressLog).toBe(0);
    expect(gw.sink.deliveries).toHaveLength(0);
    expect(gw.app.ingest.counters.quarantined).toBe(6);
  });
});
