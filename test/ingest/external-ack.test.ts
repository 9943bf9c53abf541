/**
 * External-broker mode acknowledges only what it stored, from the first byte: telemetry that
 * queued at a real Mosquitto for Shekara's persistent sessions while Shekara was down is stored,
 * every message, when Shekara comes back — and the PUBACKs Mosquitto received from Shekara's
 * connections (counted in its own log) equal the records stored. A message the store refuses
 * is not acknowledged and arrives again.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { startExternalIngest } from '../../src/ingest/external.js';
import { createLogger } from '../../src/log.js';
import type { Intake } from '../../src/ingest/intake.js';
import type { VehicleRow } from '../../src/store/index.js';
import { eventually, startTestGateway } from '../helpers/gateway.js';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';

const external = (url: string, prefix: string) => ({
  mqtt: { mode: 'external', external: { url, group: 'gw', connections: 2, clientIdPrefix: prefix } },
});

async function publishAll(url: string, vin: string, n: number, from = 0): Promise<void> {
  const car = await mqtt.connectAsync(url, { clientId: vin, protocolVersion: 4, reconnectPeriod: 0 });
  for (let i = 0; i < n; i++)
    await car.publishAsync(telemetryTopic(vin), JSON.stringify({ speed: from + i }), { qos: 1 });
  await car.endAsync();
}

describe('external broker: ack only what is stored', () => {
  let mosq: TestMosquitto;
  beforeAll(async () => {
    mosq = await startMosquitto();
  });
  afterAll(async () => {
    await mosq?.stop();
  });

  it("stores every message queued for the gateway's persistent sessions while it was down; PUBACKs = records", async () => {
    const first = await startTestGateway({ cars: 1, config: external(mosq.url, 'shk-d1') });
    const { dir, cars } = first;
    // The sessions now exist at the broker; the gateway goes away and the car keeps publishing.
    await first.stop({ keepDir: true });
    const n = 40;
    await publishAll(mosq.url, cars[0]!.vin, n);

    const back = await startTestGateway({ cars: 0, dir, config: external(mosq.url, 'shk-d1') });
    try {
      await eventually(() => mosq.pubacksFrom('shk-d1') >= n, 10_000, `${n} PUBACKs from the gateway`);
      const records = (await back.app.store.counts()).records;
      expect(records).toBe(n);
      expect(mosq.pubacksFrom('shk-d1')).toBe(records);
    } finally {
      await back.stop();
    }
  });

  it('does not acknowledge a message the store refused; the broker delivers it again and it is stored', async () => {
    const vin = 'LTEST000000000091';
    const vehicle = { vin, oem: 'demo-oem', revokedAt: null } as unknown as VehicleRow;
    const stored: string[] = [];
    let refusals = 0;
    const intake = {
      reject: () => undefined,
      startReceive: () => {
        throw new Error('unused');
      },
      counters: { accepted: 0, quarantined: 0, rejected: {} },
      accept: async (_v: unknown, _c: unknown, payload: Buffer) => {
        const body = payload.toString();
        // The store fails once, on the third message.
        if (body === '{"speed":2}' && refusals++ === 0) throw new Error('disk full');
        stored.push(body);
        return { recordId: String(stored.length), quarantined: false, projections: 0 };
      },
    } as unknown as Intake;
    const ingest = await startExternalIngest(
      {
        url: mosq.url,
        group: 'ack',
        connections: 1,
        clientIdPrefix: 'shk-fail',
        sessionExpirySeconds: 600,
        presenceSeconds: 60,
        commandRetryMinMs: 5_000,
        credentialSync: { kind: 'none', reconcileSeconds: 30 },
      },
      {
        lookupVehicle: async (v) => (v === vin ? vehicle : undefined),
        intake,
        deliveries: { brokerDelivery: async () => undefined },
        log: createLogger('silent'),
      },
    );
    try {
      const n = 5;
      await publishAll(mosq.url, vin, n);
      await eventually(() => new Set(stored).size === n, 10_000, 'every message stored');
      expect(refusals).toBeGreaterThanOrEqual(1);
      await eventually(() => mosq.pubacksFrom('shk-fail') >= n, 5_000, 'PUBACKs for the stored');
      // Never more PUBACKs than stored deliveries: none for the refused one. (A message stored
      // just as the connection was dropped is stored again on redelivery, never lost.)
      expect(mosq.pubacksFrom('shk-fail')).toBeLessThanOrEqual(stored.length);
    } finally {
      await ingest.close();
    }
  });
});
