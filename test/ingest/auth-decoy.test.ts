/**
 * An unknown VIN's authentication reads the store's decoy row instead of a vehicle's
 * (src/store/vehicles/rows.ts, red-team L4). Even if the decoy's secret were known, no VIN,
 * the decoy's own included, gets in with it: HTTPS answers 401, MQTT CONNACK 4. The store
 * suites (test/store/conformance-vehicle-auth.test.ts) check the same look-up on both stores.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/ingest/credentials.js';
import { DECOY_VIN } from '../../src/store/vehicles/rows.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { connackCode, RawCar } from '../helpers/raw-mqtt.js';

const DECOY_SECRET = 'the-decoy-secret-0123456789abcdef';
const UNKNOWN = 'LUNKN000000000099';

describe('vehicle authentication › the decoy an unknown VIN reads', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ cars: 1, store: 'sqlite' });
    // The worst case: someone learnt (here: set) the decoy's secret.
    const db = new Database(path.join(gw.dir, 'shekara.db'));
    const { secretHash, secretSalt } = hashSecret(DECOY_SECRET);
    const changed = db
      .prepare('UPDATE vehicle_auth_decoy SET secret_hash = ?, secret_salt = ?')
      .run(secretHash, secretSalt).changes;
    db.close();
    expect(changed).toBe(1);
  });
  afterAll(async () => gw?.stop());

  it('HTTPS: its secret authenticates no VIN, its own included', async () => {
    for (const vin of [UNKNOWN, DECOY_VIN, gw.cars[0]!.vin]) {
      const res = await fetch(`${gw.httpUrl}/v1/vehicles/${vin}/telemetry`, {
        method: 'POST',
        body: '{"speed":1}',
        headers: {
          authorization: `Basic ${Buffer.from(`${vin}:${DECOY_SECRET}`).toString('base64')}`,
          'content-type': 'application/json',
        },
      });
      expect(res.status).toBe(401);
    }
  });

  it('MQTT: its secret authenticates no VIN', async () => {
    const port = Number(new URL(gw.mqttUrl).port);
    for (const vin of [UNKNOWN, gw.cars[0]!.vin]) {
      const car = await RawCar.open(port, 4);
      expect(connackCode(await car.connect({ vin, secret: DECOY_SECRET }))).toBe(4);
      car.end();
    }
  });

  it('a registered car still gets in with its own secret', async () => {
    const car = await RawCar.open(Number(new URL(gw.mqttUrl).port), 4);
    expect(connackCode(await car.connect(gw.cars[0]!))).toBe(0);
    car.end();
  });
});
