/**
 * A refused vehicle authentication is answered no sooner than `limits.authRefusalFloorMs` after
 * it began (src/ingest/credentials.ts), for a registered VIN and an unknown one alike: it slows
 * guessing. (Equal work, not the floor, evens out the two kinds' time: red-team L4,
 * test/ingest/auth-decoy.test.ts.)
 * What is asserted is the floor — no refusal, for either kind of VIN, arrives before it — over
 * real sockets: HTTPS Basic auth and an MQTT CONNECT. The floor is set to 1.5 s here, far above
 * what a refusal takes even on a loaded machine, so the test fails if the floor is not applied.
 * How close the two kinds are in time is measured in bench/auth-timing.ts, never asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { connackCode, RawCar } from '../helpers/raw-mqtt.js';

const WRONG = 'wrong-secret-0123456789abcdefghij';
const UNKNOWN = 'LUNKN000000000099';
const FLOOR_MS = 1_500;

describe('vehicle authentication › a refusal is answered no sooner than the floor', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ cars: 1, config: { limits: { authRefusalFloorMs: FLOOR_MS } } });
  });
  afterAll(async () => gw?.stop());

  const elapsed = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    const out = await f();
    return { ms: performance.now() - t0, out };
  };

  it('HTTPS: 401 for a wrong secret and for an unknown VIN, neither before the floor', async () => {
    for (const vin of [gw.cars[0]!.vin, UNKNOWN]) {
      const { ms, out } = await elapsed(() =>
        fetch(`${gw.httpUrl}/v1/vehicles/${vin}/telemetry`, {
          method: 'POST',
          body: '{"speed":1}',
          headers: {
            authorization: `Basic ${Buffer.from(`${vin}:${WRONG}`).toString('base64')}`,
            'content-type': 'application/json',
          },
        }),
      );
      expect((out as Response).status).toBe(401);
      expect(ms).toBeGreaterThanOrEqual(FLOOR_MS);
    }
  });

  it('MQTT: CONNACK "bad user name or password" for both, neither before the floor', async () => {
    const port = Number(new URL(gw.mqttUrl).port);
    for (const vin of [gw.cars[0]!.vin, UNKNOWN]) {
      const car = await RawCar.open(port, 4);
      const { ms, out } = await elapsed(() => car.connect({ vin, secret: WRONG }));
      expect(connackCode(out as Awaited<ReturnType<RawCar['connect']>>)).toBe(4);
      expect(ms).toBeGreaterThanOrEqual(FLOOR_MS);
      car.end();
    }
  });
});
