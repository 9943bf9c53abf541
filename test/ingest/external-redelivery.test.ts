/**
 * External-broker mode: a message that was stored but whose PUBACK never reached the broker
 * (the instance died between its commit and its PUBACK) is resent by the broker on the resumed
 * session, and is stored once — one record, not two. A real Mosquitto, real MQTT clients, a
 * real SQLite store (its writer thread commits); the crash is a connection dropped right after
 * the commit resolved.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { startExternalIngest } from '../../src/ingest/external.js';
import { createCommitter } from '../../src/ingest/committer.js';
import { createIntake, type Intake } from '../../src/ingest/intake.js';
import { createLogger } from '../../src/log.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import type { Store } from '../../src/store/index.js';
import { eventually } from '../helpers/gateway.js';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';

describe('external broker: a resent message is stored once', () => {
  let mosq: TestMosquitto;
  let dir: string;
  let store: Store;
  let vin: string;
  beforeAll(async () => {
    mosq = await startMosquitto();
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-redelivery-'));
    store = openSqliteStore(path.join(dir, 'shekara.db'));
    vin = (await registerSimCars(store, 1, 'demo-oem', 'LXRED'))[0]!.vin;
  });
  afterAll(async () => {
    await store?.close();
    await mosq?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a message whose PUBACK was lost after its commit once, when the broker resends it', async () => {
    const log = createLogger('silent');
    const intake = createIntake({
      committer: createCommitter(store, { maxBatch: 64, maxPending: 1_000 }, () => undefined),
      project: async () => [],
      log,
    });
    // The crash: the third message's commit returns, then the connection goes before its PUBACK.
    let crashes = 0;
    const crashing: Intake = {
      ...intake,
      accept: async (...args) => {
        const r = await intake.accept(...args);
        if (args[2].toString() === '{"speed":2}' && crashes === 0) {
          crashes++;
          throw new Error('killed after the commit');
        }
        return r;
      },
    };
    const ingest = await startExternalIngest(
      {
        url: mosq.url,
        group: 'redeliver',
        connections: 1,
        clientIdPrefix: 'shk-redeliver',
        sessionExpirySeconds: 600,
        presenceSeconds: 60,
        credentialSync: { kind: 'none', reconcileSeconds: 30 },
      },
      {
        lookupVehicle: async (v) => (v === vin ? store.getVehicle(v) : undefined),
        intake: crashing,
        deliveries: store,
        log,
      },
    );
    try {
      const n = 5;
      const car = await mqtt.connectAsync(mosq.url, { clientId: vin, protocolVersion: 4, reconnectPeriod: 0 });
      for (let i = 0; i < n; i++) await car.publishAsync(telemetryTopic(vin), JSON.stringify({ speed: i }), { qos: 1 });
      await car.endAsync();
      await eventually(() => mosq.pubacksFrom('shk-redeliver') >= n, 15_000, `${n} PUBACKs from the gateway`);
      // The broker did resend the message that was stored without its PUBACK (DUP set: "d1").
      expect(crashes).toBe(1);
      expect(mosq.log()).toMatch(/Sending PUBLISH to shk-redeliver-0 \(d1, q1/);
      expect((await store.counts()).records).toBe(n);
    } finally {
      await ingest.close();
    }
  });
});
