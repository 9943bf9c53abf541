/**
 * External-broker mode: a message that was stored but whose PUBACK never reached the broker
 * (the instance died between its commit and its PUBACK) is resent by the broker on the resumed
 * session, and is stored once — one record, not two. A real Mosquitto, real MQTT clients, a
 * real SQLite store (its writer thread commits); the crash is a connection dropped right after
 * the commit resolved. The gateway reaches the broker through a TCP proxy in this process, which
 * shows what reached the gateway and can drop the connection at a chosen moment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
import { afterLoopbackRead, startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const N = 5;
const CLIENT = 'shk-redeliver-0';
const speed = (i: number) => JSON.stringify({ speed: i });

describe('external broker: a resent message is stored once', () => {
  let mosq: TestMosquitto;
  let proxy: TcpProxy;
  let dir: string;
  let store: Store;
  let vin: string;
  beforeEach(async () => {
    mosq = await startMosquitto();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: mosq.port });
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-redelivery-'));
    store = openSqliteStore(path.join(dir, 'shekara.db'));
    vin = (await registerSimCars(store, 1, 'demo-oem', 'LXRED'))[0]!.vin;
  });
  afterEach(async () => {
    await store?.close();
    await proxy?.close();
    await mosq?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The packet ids the gateway's connection acknowledged, each once however often it was. */
  const ackedIds = () =>
    new Set(
      [...mosq.log().matchAll(new RegExp(`Received PUBACK from ${CLIENT} \\(Mid: (\\d+)`, 'g'))].map((m) => m[1]),
    );

  /**
   * The gateway, through the proxy, its intake wrapped by `wrap`; the car sends speed 0..N-1 at
   * QoS 1; resolves once the broker holds none of them unacknowledged (N distinct packet ids
   * acknowledged: a PUBACK may come twice for one message, and must not be counted as another).
   */
  async function run(wrap: (intake: Intake) => Intake): Promise<void> {
    const log = createLogger('silent');
    const intake = createIntake({
      committer: createCommitter(store, { maxBatch: 64, maxPending: 1_000 }, () => undefined),
      project: async () => [],
      log,
    });
    const ingest = await startExternalIngest(
      {
        url: `mqtt://127.0.0.1:${proxy.port}`,
        group: 'redeliver',
        connections: 1,
        clientIdPrefix: 'shk-redeliver',
        sessionExpirySeconds: 600,
        presenceSeconds: 60,
        commandRetryMinMs: 5_000,
        credentialSync: { kind: 'none', reconcileSeconds: 30 },
      },
      {
        lookupVehicle: async (v) => (v === vin ? store.getVehicle(v) : undefined),
        intake: wrap(intake),
        deliveries: store,
        log,
      },
    );
    try {
      const car = await mqtt.connectAsync(mosq.url, { clientId: vin, protocolVersion: 4, reconnectPeriod: 0 });
      for (let i = 0; i < N; i++) await car.publishAsync(telemetryTopic(vin), speed(i), { qos: 1 });
      await car.endAsync();
      await eventually(() => ackedIds().size >= N, 15_000, `PUBACKs of ${N} messages from the gateway`);
    } finally {
      await ingest.close();
    }
  }

  it('stores a message whose PUBACK was lost after its commit once, when the broker resends it', async () => {
    // The crash: the third message's commit returns, then the connection goes before its PUBACK.
    let crashes = 0;
    await run((intake) => ({
      ...intake,
      accept: async (...args) => {
        const r = await intake.accept(...args);
        if (args[2].toString() === speed(2) && crashes === 0) {
          crashes++;
          throw new Error('killed after the commit');
        }
        return r;
      },
    }));
    // The broker did resend the message that was stored without its PUBACK (DUP set: "d1").
    expect(crashes).toBe(1);
    expect(mosq.log()).toMatch(/Sending PUBLISH to shk-redeliver-0 \(d1, q1/);
    expect((await store.counts()).records).toBe(N);
  });

  it('stores what the dropped connection had read once, and acknowledges it once', async () => {
    // The second message fails (the store refused it) while the rest were read already; the
    // third, still handled, is stored only once its resend reached the next connection.
    let failed = false;
    let held = false;
    await run((intake) => ({
      ...intake,
      accept: async (...args) => {
        const payload = args[2].toString();
        if (payload === speed(1) && !failed) {
          failed = true;
          await eventually(() => proxy.toClient(0).includes(speed(N - 1)), 10_000, 'every message read');
          await afterLoopbackRead();
          throw new Error('the store refused it');
        }
        if (payload === speed(2) && !held) {
          held = true;
          await eventually(() => proxy.toClient(1).includes(speed(2)), 10_000, 'the resend');
          await afterLoopbackRead();
        }
        return intake.accept(...args);
      },
    }));
    expect(failed).toBe(true);
    expect((await store.counts()).records).toBe(N);
    // No PUBACK on the next connection for what the dropped one carried: each message acknowledged once.
    expect(mosq.pubacksFrom('shk-redeliver')).toBe(N);
  });

  it('stores a message once when the network drops the connection while it is being stored', async () => {
    // The drop comes while the second message is in hand; its commit waits until the broker's
    // resend of it reached the gateway on the next connection.
    let dropped = false;
    await run((intake) => ({
      ...intake,
      accept: async (...args) => {
        if (args[2].toString() === speed(1) && !dropped) {
          dropped = true;
          proxy.cut();
          await eventually(() => proxy.toClient(1).includes(speed(1)), 10_000, 'the resend');
          await afterLoopbackRead();
        }
        return intake.accept(...args);
      },
    }));
    expect(dropped).toBe(true);
    expect((await store.counts()).records).toBe(N);
    expect(mosq.pubacksFrom('shk-redeliver')).toBe(N);
  });
});
