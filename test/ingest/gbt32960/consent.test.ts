/**
 * Consent governs GB/T 32960 data like any other: a car's reports, answered and stored, wait in
 * the queue while the OEM is down; the owner revokes consent; nothing of them leaves (blocked at
 * send time, logged), and a report that arrives after the revocation is stored and still sends
 * what needs no consent, but nothing of the revoked purpose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAG } from '../../../src/ingest/gbt32960/frame.js';
import { SimTerminal, simReading } from '../../../src/sim/gbt32960.js';
import { eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js';

const POLICY = `
oem: demo-oem
purposes:
  - id: speed
    description: Speed, with the owner's consent.
    consentRequired: true
    fields:
      Vehicle.Speed: pass
  - id: odometer
    description: Odometer, a contract purpose that needs no consent.
    fields:
      Vehicle.TraveledDistance: pass
`;

describe('gbt32960 › when the owner revokes consent', () => {
  let gw: TestGateway;
  let t: SimTerminal | undefined;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 1,
      policy: POLICY,
      // Retries 1 s apart, so the wait for the block is short.
      config: {
        gbt32960: { enabled: true, tcp: { enabled: true, host: '127.0.0.1', port: 0, allowFrom: ['127.0.0.0/8'] } },
        egress: {
          initialBackoffMs: 1_000,
          maxBackoffMs: 1_000,
          pollIntervalMs: 20,
          requestTimeoutMs: 1_000,
          breaker: { failureThreshold: 100, openMs: 100 },
        },
      },
    });
  });
  afterAll(async () => {
    t?.close();
    await gw?.stop();
  });

  it('blocks the queued report, sends nothing of that purpose afterwards, and the car is still answered', async () => {
    const car = gw.cars[0]!;
    await gw.app.store.grantConsent({ vin: car.vin, oem: 'demo-oem', purpose: 'speed', atMs: Date.now() - 1_000 });
    gw.sink.setStatus(503); // the OEM is down: the report waits in the queue
    t = await SimTerminal.connect({ host: '127.0.0.1', port: gw.app.ingest.gbt32960Port!, vin: car.vin });
    expect((await t.login()).flag).toBe(FLAG.success);
    expect((await t.report({ ...simReading(1, Date.now()), speedKmh: 42, odometerKm: 1001 })).flag).toBe(FLAG.success);
    const failed = await eventually(
      async () => (await gw.app.store.listEgressLog()).find((r) => r.outcome === 'failed' && r.purpose === 'speed'),
      10_000,
      'a failed attempt while consent holds',
    );
    // The OEM stays down until the block is logged. An attempt whose consent check passed just
    // before the revocation may reach the OEM just after it (nothing can call back a request under
    // way): were the OEM up by then, that attempt would deliver, and no block would ever come.
    // Down, it fails, and the next attempt is blocked.
    await gw.app.store.revokeConsent({ vin: car.vin, oem: 'demo-oem', purpose: 'speed', atMs: Date.now() });
    const blocked = await eventually(
      async () => (await gw.app.store.listEgressLog()).find((r) => r.outcome === 'blocked' && r.purpose === 'speed'),
      10_000,
      'the block',
    );
    gw.sink.setStatus(200);
    expect(blocked).toMatchObject({ recordId: failed.recordId, error: 'consent revoked', httpStatus: null });

    // After the revocation: answered and stored; the contract purpose leaves, the revoked one does not.
    expect((await t.report({ ...simReading(2, Date.now()), speedKmh: 43, odometerKm: 1002 })).flag).toBe(FLAG.success);
    const purposeOf = (d: (typeof gw.sink.deliveries)[number]) => (d.body as { purpose: string }).purpose;
    const signalsOf = (d: (typeof gw.sink.deliveries)[number]) =>
      (d.body as { signals: Record<string, unknown> }).signals;
    await eventually(
      () => gw.sink.deliveries.find((d) => signalsOf(d)['Vehicle.TraveledDistance'] === 1002),
      10_000,
      'the later report’s odometer delivered',
    );
    await eventually(
      () => gw.sink.deliveries.find((d) => signalsOf(d)['Vehicle.TraveledDistance'] === 1001),
      10_000,
      'the queued report’s odometer delivered',
    );
    expect(gw.sink.deliveries.filter((d) => purposeOf(d) === 'speed')).toEqual([]);
    expect(JSON.stringify(gw.sink.deliveries.map((d) => d.body))).not.toContain('Vehicle.Speed');
    const log = await gw.app.store.listEgressLog();
    expect(log.filter((r) => r.purpose === 'speed' && r.outcome === 'delivered')).toEqual([]);
  });
});
