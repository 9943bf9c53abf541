/**
 * Consent is checked again just before sending, against the real consent store: an owner who
 * revokes after the record was queued sees nothing more leave, and the block is logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CONSENT_POLICY = `
oem: demo-oem
purposes:
  - id: speed
    description: Speed, with the owner's consent.
    consentRequired: true
    fields:
      Vehicle.Speed: pass
`;

describe('egress › when the owner revokes consent between enqueue and delivery', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 1,
      policy: CONSENT_POLICY,
      // Retries >= 500 ms apart, so the wait for the block is short.
      config: {
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
  afterAll(async () => gw?.stop());

  it('blocks the queued delivery, logs it as blocked, and sends nothing', async () => {
    const car = gw.cars[0]!;
    await gw.app.store.grantConsent({ vin: car.vin, oem: 'demo-oem', purpose: 'speed', atMs: Date.now() - 1_000 });
    gw.sink.setStatus(503); // the OEM is down: the record waits in the queue
    const client = await gw.connect(car);
    await client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: 42 }), { qos: 1 });
    const failed = await eventually(
      async () => (await gw.app.store.listEgressLog()).find((r) => r.outcome === 'failed'),
      5_000,
      'a failed attempt while consent holds',
    );
    // The OEM stays down until the block is logged: an attempt checked just before the
    // revocation may reach it just after (gbt32960/consent.test.ts says why).
    await gw.app.store.revokeConsent({ vin: car.vin, oem: 'demo-oem', purpose: 'speed', atMs: Date.now() });
    const blocked = await eventually(
      async () => (await gw.app.store.listEgressLog()).find((r) => r.outcome === 'blocked'),
      5_000,
      'the block',
    );
    gw.sink.setStatus(200);
    expect(blocked).toMatchObject({
      recordId: failed.recordId,
      error: 'consent revoked',
      httpStatus: null,
      destinationIp: null,
    });
    // Nothing is left to send: the blocked row is settled, so no later attempt can deliver it.
    expect((await gw.app.store.counts()).outboxPending).toBe(0);
    expect(gw.sink.deliveries).toEqual([]);
    expect((await gw.app.store.listEgressLog()).map((r) => r.outcome)).not.toContain('delivered');
  });
});
