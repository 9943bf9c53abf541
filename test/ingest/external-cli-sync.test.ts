/**
 * Credential sync for changes made with the CLI (`shekara vehicles add|rotate|revoke`, run with
 * the gateway's config), which writes the store directly: a new secret reaches the shipped
 * Mosquitto configuration from the CLI itself (only then is it in hand), and the running
 * gateway's reconcile backs up a revocation within `reconcileSeconds`. Needs the built CLI (dist/).
 */
// eslint-disable-next-line no-restricted-imports -- one short CLI command per call
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedByServer, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { BROKER_GATEWAY, DYNSEC_ADMIN, startShippedMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';

const VINS = ['LCLXS000000000001', 'LCLXS000000000002', 'LCLXS000000000003'];

describe('credential sync of CLI changes (shipped Mosquitto config)', () => {
  let pki: TestPki;
  let mosq: TestMosquitto;
  let gw: TestGateway;
  let cliConfig: string;
  const secrets = new Map<string, string>();
  const open: MqttClient[] = [];

  const connect = (vin: string, secret = secrets.get(vin)) =>
    mqtt
      .connectAsync(mosq.url, {
        clientId: vin,
        username: vin,
        password: secret,
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      })
      .then((c) => {
        open.push(c);
        return c;
      });
  const outcome = (vin: string, secret?: string) =>
    connect(vin, secret).then(
      (c) => {
        c.end(true);
        return 'accepted';
      },
      (err: Error & { code?: number }) => err.code ?? err.message,
    );
  /** One reconcile round of the gateway, as its timer runs them. */
  const reconcileRound = async () => {
    await gw.app.ingest.brokerCredentials!.reconcile();
  };
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, ['bin/shekara.js', ...args, '-c', cliConfig], { encoding: 'utf8' });

  beforeAll(async () => {
    pki = createTestPki();
    mosq = await startShippedMosquitto(pki);
    const external = {
      mqtt: {
        mode: 'external',
        external: {
          url: mosq.url,
          ...BROKER_GATEWAY,
          connections: 1,
          clientIdPrefix: 'shk-cli',
          credentialSync: { kind: 'mosquitto-dynsec', ...DYNSEC_ADMIN, reconcileSeconds: 1 },
        },
      },
    };
    gw = await startTestGateway({ cars: 0, config: external });
    for (const vin of VINS.slice(0, 2))
      secrets.set(vin, (await gw.app.admin.vehicles.register({ vin, oem: 'demo-oem' }, 'test')).secret);
    // The CLI with the gateway's config: the same store (and key file), the same broker.
    cliConfig = path.join(gw.dir, 'cli.yaml');
    writeFileSync(
      cliConfig,
      stringify({
        dataDir: '.',
        ...(gw.storeConfig ? { store: gw.storeConfig } : {}),
        ...external,
        log: { level: 'silent' },
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(open.map((c) => c.endAsync(true).catch(() => undefined)));
    await gw?.stop();
    await mosq?.stop();
  });

  it('a car revoked with the CLI is cut off and refused within reconcileSeconds', async () => {
    const vin = VINS[0]!;
    const c = await connect(vin);
    const closed = closedByServer(c, 30_000);
    expect(cli('vehicles', 'revoke', vin)).toContain(`revoked the credentials of ${vin}`);
    await closed;
    expect(await outcome(vin)).not.toBe('accepted');
  });

  it('a secret rotated with the CLI: the car is cut off, the old secret refused, the new one accepted', async () => {
    const vin = VINS[1]!;
    const c = await connect(vin);
    const closed = closedByServer(c, 30_000);
    const printed = cli('vehicles', 'rotate', vin);
    const secret = /secret \(shown once\): (\S+)/.exec(printed)![1]!;
    await closed;
    expect(await outcome(vin)).toBe(0x87);
    expect(await outcome(vin, secret)).toBe('accepted');
    // A reconcile round of the gateway (it runs one every reconcileSeconds) leaves the CLI's
    // secret in place: one is run here, rather than waiting for the timer's.
    await reconcileRound();
    expect(await outcome(vin, secret)).toBe('accepted');
  });

  it('a car registered with the CLI connects to the broker at once, and its telemetry is stored', async () => {
    const vin = VINS[2]!;
    const printed = cli('vehicles', 'add', '--vin', vin, '--oem', 'demo-oem');
    const secret = /secret \(shown once\): (\S+)/.exec(printed)![1]!;
    const car = await connect(vin, secret);
    await car.publishAsync(`vehicles/${vin}/telemetry`, JSON.stringify({ speed: 42 }), { qos: 1 });
    await eventually(async () => (await gw.app.store.counts()).records === 1, 10_000, 'the record stored');
    await reconcileRound();
    expect(await outcome(vin, secret)).toBe('accepted');
  });
});
