/**
 * Fuzzing telemetry payloads through decode → commit, on both stores, over the real endpoints:
 * fast-check JSON text with prototype keys, duplicate keys, any number text, nesting thousands
 * deep and huge strings, in the telemetry vocabulary's shape and outside it. Each payload goes
 * once over MQTT 3.1.1 QoS 1 and once over HTTPS. What must hold for every one: an answer (a
 * PUBACK; 202 or 422), never a 5xx or a disconnect, and every accepted message is one stored
 * record or one quarantined payload, no more, no less.
 *
 * Bounded: FUZZ_SECONDS per store (default 5, budget.ts) or FUZZ_RUNS cases, whichever ends first;
 * `bench/fuzz.sh` runs longer. The case counts are printed.
 */
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { BOTH_STORES, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { jsonText, keyText, numberText, objectText } from './payloads.js';
import { assertProperty, fuzzBudget } from './budget.js';

const budget = fuzzBudget();

const TOP = ['ts', 'vin', 'position', 'speed', 'odometer', 'ignition', 'battery', 'fuelLevel', 'cabin', 'dtc'];
const SECTIONS = ['lat', 'lon', 'heading', 'altitude', 'soc', 'voltage', 'temperature', 'owner', 'driver', 'name'];
const PATHS = ['"Vehicle.Speed"', '"Vehicle.CurrentLocation.Latitude"', '"Vehicle.X"', '"Vehicle"', '"vehicle.speed"'];

/** A payload: mostly shaped like telemetry so the decoder goes deep, sometimes anything at all. */
function payloads(vin: string): fc.Arbitrary<string> {
  const any = jsonText([...TOP, ...SECTIONS, 'signals', 'account']);
  const section = objectText(keyText(SECTIONS), fc.oneof(numberText, any));
  const value = fc.oneof(numberText, section, any, fc.constant(JSON.stringify(vin)));
  const signals = objectText(fc.oneof(fc.constantFrom(...PATHS), keyText([])), fc.oneof(numberText, any));
  const top = fc.oneof(
    { weight: 4, arbitrary: keyText(TOP) },
    { weight: 1, arbitrary: fc.constantFrom('"signals"', '"account"') },
  );
  return fc.oneof(
    { weight: 6, arbitrary: objectText(top, fc.oneof(value, signals)) },
    { weight: 2, arbitrary: any },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')) },
  );
}

describe.each(BOTH_STORES)('fuzz › telemetry payloads through decode → commit on %s', (kind) => {
  let gw: TestGateway;
  let car: MqttClient;
  let disconnects = 0;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 2,
      store: kind,
      config: {
        // The fuzzer sends as fast as answers come: rate limits are not what it tests.
        limits: { messagesPerSecond: 1_000_000, messageBurst: 1_000_000 },
      },
    });
    car = await gw.connect(gw.cars[0]!);
    car.on('close', () => (disconnects += 1));
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it(
    'every payload is answered, never 5xx or a disconnect, and stored or quarantined once',
    async () => {
      const [mqttCar, httpsCar] = gw.cars as [{ vin: string; secret: string }, { vin: string; secret: string }];
      const auth = `Basic ${Buffer.from(`${httpsCar.vin}:${httpsCar.secret}`).toString('base64')}`;
      const before = await gw.app.store.counts();
      const stats = { cases: 0, accepted: 0, stored: 0, quarantined: 0, oversize: 0 };
      const started = Date.now();
      await assertProperty(
        fc.asyncProperty(payloads(mqttCar.vin), async (text) => {
          if (budget.over()) return;
          const body = Buffer.from(text, 'utf8');
          // Over the packet limit is the MQTT fuzzer's boundary case (413 / packet too large).
          if (body.length > 60_000) return void (stats.oversize += 1);
          stats.cases += 1;
          const res = await fetch(`${gw.httpUrl}/v1/vehicles/${httpsCar.vin}/telemetry`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: auth },
            body,
          });
          await res.arrayBuffer();
          expect([202, 422], `HTTPS answered ${res.status}`).toContain(res.status);
          stats.accepted += 1;
          stats[res.status === 202 ? 'stored' : 'quarantined'] += 1;
          await withTimeout(car.publishAsync(telemetryTopic(mqttCar.vin), body, { qos: 1 }), 20_000, 'no PUBACK');
          expect(disconnects, 'the car was disconnected').toBe(0);
          stats.accepted += 1;
        }),
        budget,
      );
      const after = await gw.app.store.counts();
      const kept = after.records - before.records + (after.quarantine - before.quarantine);
      console.log(
        `fuzz telemetry (${kind}): ${stats.cases} payloads × 2 channels in ${Math.round((Date.now() - started) / 1000)} s; ` +
          `HTTPS ${stats.stored} stored / ${stats.quarantined} quarantined; ${stats.accepted} answered, ${kept} kept, ` +
          `0 5xx, ${disconnects} disconnects (${stats.oversize} over 60 KB skipped)`,
      );
      expect(stats.cases).toBeGreaterThan(0);
      expect(kept).toBe(stats.accepted);
    },
    budget.timeout,
  );
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
