/**
 * Payloads that once poisoned ingest (a 5xx, or an MQTT disconnect without PUBACK, and nothing
 * stored, so a QoS 1 car resent them for ever) are now stored or quarantined with a reason and
 * answered — over HTTPS and MQTT, on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { BOTH_STORES, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** [what, payload, expected: 'stored' with these unknown keys, or a quarantine reason]. */
const POISON: readonly (readonly [string, string, string[] | RegExp])[] = [
  ['constructor as a top-level key', '{"constructor":1,"speed":5}', ['constructor']],
  ['__proto__ as a top-level key', '{"__proto__":1}', ['__proto__']],
  ['toString as a top-level key', '{"toString":"x"}', ['toString']],
  ['hasOwnProperty and valueOf', '{"hasOwnProperty":{},"valueOf":[]}', ['hasOwnProperty', 'valueOf']],
  ['__proto__ under a nested section', '{"position":{"__proto__":{"lat":1}}}', ['position.__proto__']],
  ['a fractional ts', '{"ts":1796298000000.5,"speed":1}', /^ts: expected a whole number of milliseconds/],
  ['a duplicate vin', '{"vin":"LZZZZ000000000009","vin":"<own>"}', /^vin: duplicate key$/],
  ['a duplicate nested key', '{"position":{"lat":1,"lat":2}}', /^position.lat: duplicate key$/],
  ['a number beyond double range', '{"speed":1e400}', /not valid JSON: payload.speed: number out of range/],
  ['nesting 10000 deep', `{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, /nested deeper than/],
];

describe.each(BOTH_STORES)('poison payloads on %s', (kind) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ cars: 2, store: kind });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  const expectKept = async (recordId: string, body: string, expected: string[] | RegExp) => {
    if (Array.isArray(expected)) {
      const rec = await gw.app.store.getRecord(recordId);
      expect(rec?.record.unknownKeys).toEqual(expected);
      return;
    }
    const q = (await gw.app.store.listQuarantine(50)).find((x) => x.id === recordId);
    expect(q?.reason).toMatch(expected);
    expect(q?.raw.toString()).toBe(body);
  };

  it.each(POISON)('HTTPS: %s is answered 202 or 422 and kept', async (_what, template, expected) => {
    const car = gw.cars[0]!;
    const body = template.replace('<own>', car.vin);
    const res = await fetch(`${gw.httpUrl}/v1/vehicles/${car.vin}/telemetry`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${car.vin}:${car.secret}`).toString('base64')}`,
      },
      body,
    });
    const answer = (await res.json()) as { recordId: string; message?: string };
    expect(res.status).toBe(Array.isArray(expected) ? 202 : 422);
    await expectKept(answer.recordId, body, expected);
  });

  it.each(POISON)(
    'MQTT QoS 1: %s is acknowledged, kept, and the car stays connected',
    async (_what, template, expected) => {
      const car = gw.cars[1]!;
      const body = template.replace('<own>', car.vin);
      const c = await gw.connect(car);
      const before = await gw.app.store.counts();
      await c.publishAsync(telemetryTopic(car.vin), body, { qos: 1 });
      expect(c.connected).toBe(true);
      const after = await gw.app.store.counts();
      if (Array.isArray(expected)) {
        expect(after.records).toBe(before.records + 1);
      } else {
        expect(after.quarantine).toBe(before.quarantine + 1);
        const q = (await gw.app.store.listQuarantine(1))[0]!;
        expect(q.reason).toMatch(expected);
        expect(q.raw.toString()).toBe(body);
      }
      await c.endAsync();
    },
  );
});
