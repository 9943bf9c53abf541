/**
 * The walking skeleton's proof, over real sockets: an mqtt.js car → the gateway's MQTT endpoint
 * → SQLite → policy → egress worker → a real HTTP OEM sink, and the egress log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { newCar, nextTelemetry } from '../../src/sim/telemetry.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { DELIVERY_ID_RE } from '../../src/policy/delivery-id.js';
import { carriesTimeNear } from '../helpers/time-leak.js';

interface Body {
  deliveryId: string;
  purpose: string;
  vehicle?: string;
  signals: Record<string, unknown>;
}

describe("a car's telemetry crossing the border", () => {
  let gw: TestGateway;
  let payload: Record<string, unknown>;
  let recordId: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    const car = gw.cars[0]!;
    const client = await gw.connect(car);
    payload = nextTelemetry(newCar(car.vin, 0), Date.now());
    await client.publishAsync(telemetryTopic(car.vin), JSON.stringify(payload), { qos: 1 });
    const delivered = await eventually(
      () => gw.sink.deliveries.length >= 2 && gw.sink.deliveries,
      5_000,
      'two deliveries',
    );
    // The OEM names a delivery by its delivery id; the egress log maps it back to the record.
    const deliveryId = (delivered[0]!.body as Body).deliveryId;
    // The outcome is committed after the OEM answered, so the log row follows the receipt.
    const [logged] = await eventually(
      async () => {
        const rows = await gw.app.store.listEgressLog({ deliveryId });
        return rows.length > 0 && rows;
      },
      5_000,
      'the egress-log row of the first delivery',
    );
    recordId = logged!.recordId;
    await eventually(
      async () => (await gw.app.store.listEgressLog({ recordId })).length >= 2,
      5_000,
      'two egress-log rows',
    );
  });
  afterAll(async () => gw?.stop());

  it('delivers one projection per purpose, each with only the fields that purpose names', () => {
    const bodies = gw.sink.deliveries.map((d) => d.body as { purpose: string; signals: Record<string, unknown> });
    const byPurpose = Object.fromEntries(bodies.map((b) => [b.purpose, b]));
    expect(Object.keys(byPurpose).sort()).toEqual(['battery-warranty', 'speed-profile']);
    expect(Object.keys(byPurpose['battery-warranty']!.signals).sort()).toEqual([
      'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current',
      'Vehicle.TraveledDistance',
      'Vehicle.VehicleIdentification.VIN',
    ]);
    expect(byPurpose['speed-profile']!.signals).toEqual({ 'Vehicle.Speed': payload.speed });
  });

  it('never sends the raw VIN, an account field, a location or an unknown field', () => {
    const car = gw.cars[0]!;
    for (const d of gw.sink.deliveries) {
      const text = JSON.stringify(d);
      expect(text).not.toContain(car.vin);
      expect(text.toLowerCase()).not.toContain(car.vin.toLowerCase());
      expect(text).not.toContain(Buffer.from(car.vin).toString('base64'));
      expect(text).not.toMatch(/Aigerim|Daniyar|example\.kz|\+7 70|Account\./);
      expect(text).not.toMatch(/Latitude|Longitude|hu_firmware|tbox_session|canbus/);
    }
  });

  it('sends the VIN as the same keyed pseudonym in the envelope and the signal', () => {
    const b = gw.sink.deliveries.find((d) => (d.body as { purpose: string }).purpose === 'battery-warranty')!.body as {
      vehicle: string;
      signals: Record<string, string>;
    };
    expect(b.vehicle).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(b.signals['Vehicle.VehicleIdentification.VIN']).toBe(b.vehicle);
    expect(b.vehicle).toBe(gw.app.policy.pseudonymFor('demo-oem', gw.cars[0]!.vin, Date.now()));
  });

  it('keeps the full record, account data included, in the local store', async () => {
    const stored = (await gw.app.store.getRecord(recordId))!;
    expect(stored.record.vin).toBe(gw.cars[0]!.vin);
    expect(stored.record.account['Account.Owner.Email']).toMatch(/@example\.kz$/);
    expect(stored.record.signals['Vehicle.CurrentLocation.Latitude']).toBe((payload.position as { lat: number }).lat);
    expect(stored.record.unknownKeys).toEqual(expect.arrayContaining(['hu_firmware', 'tbox_session', 'diag']));
    expect(JSON.parse(stored.raw.toString('utf8'))).toEqual(payload);
  });

  it('writes an egress-log row per delivery naming OEM, destination, fields sent and policy hash', async () => {
    const rows = await gw.app.store.listEgressLog({ recordId });
    expect(rows).toHaveLength(2);
    const policyHash = gw.app.policy.policyOf('demo-oem')!.hash;
    for (const row of rows) {
      expect(row).toMatchObject({
        outcome: 'delivered',
        oem: 'demo-oem',
        destination: `127.0.0.1:${gw.sink.port}`,
        policyHash,
        httpStatus: 200,
        attempt: 1,
      });
      expect(row.fieldsSent.length).toBeGreaterThan(0);
      expect(row.fieldsDropped).toEqual(
        expect.arrayContaining([
          'Account.Owner.NationalId',
          'Vehicle.CurrentLocation.Latitude',
          '$unknown.hu_firmware',
        ]),
      );
      expect(JSON.stringify(row)).not.toContain(gw.cars[0]!.vin);
    }
  });

  it('sends the delivery id as the idempotency key and in the delivery-id header', () => {
    for (const d of gw.sink.deliveries) {
      const body = d.body as Body;
      expect(body.deliveryId).toMatch(DELIVERY_ID_RE);
      expect(d.headers['idempotency-key']).toBe(body.deliveryId);
      expect(d.headers['shekara-delivery-id']).toBe(body.deliveryId);
    }
  });

  // Black-box review D3: the record id (a UUIDv7) carried the receipt time to the millisecond.
  it('sends neither the record id nor anything that decodes to the receipt time', async () => {
    const stored = (await gw.app.store.getRecord(recordId))!.record;
    for (const d of gw.sink.deliveries) {
      const text = JSON.stringify({ body: d.body, headers: d.headers });
      expect(text).not.toContain(recordId);
      expect(text).not.toContain(recordId.replaceAll('-', '').slice(0, 12));
      const { observedAt: _bucketed, ...rest } = d.body as Body & { observedAt: string };
      expect(carriesTimeNear(JSON.stringify({ ...rest, headers: d.headers }), stored.receivedAt)).toEqual([]);
    }
  });

  // D3: one id shared by every purpose let the OEM join a consent purpose with a contract one.
  it('gives each purpose of one record its own, unrelated delivery id, mapped back in the country', async () => {
    const ids = gw.sink.deliveries.map((d) => (d.body as Body).deliveryId);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) {
      const rows = await gw.app.store.listEgressLog({ deliveryId: id });
      expect(rows.map((r) => r.recordId)).toEqual([recordId]);
      expect(rows[0]!.deliveryId).toBe(id);
    }
    const [a, b] = ids.map((id) => id.slice(2));
    expect(commonPrefix(a!, b!)).toBeLessThan(4);
  });

  // D6: the pseudonym went out for a purpose that does not name the VIN.
  it('sends the pseudonym only for the purpose that names the VIN, and logs it as sent there', async () => {
    const pseudonym = gw.app.policy.pseudonymFor('demo-oem', gw.cars[0]!.vin, Date.now())!;
    const speed = gw.sink.deliveries.find((d) => (d.body as Body).purpose === 'speed-profile')!;
    expect(speed.body).not.toHaveProperty('vehicle');
    expect(JSON.stringify(speed)).not.toContain(pseudonym);
    const rows = await gw.app.store.listEgressLog({ recordId });
    const logged = Object.fromEntries(rows.map((r) => [r.purpose, r.fieldsSent]));
    expect(logged['speed-profile']).toEqual(['Vehicle.Speed']);
    expect(logged['battery-warranty']).toContain('Vehicle.VehicleIdentification.VIN');
  });
});

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}
