/**
 * Credential sync for changes made with the CLI (`shekara vehicles revoke|rotate`), which writes
 * the store directly and has no broker connection: the running gateway's reconcile brings the
 * shipped Mosquitto configuration in line within `reconcileSeconds`. Needs the built CLI (dist/).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedByServer, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { BROKER_GATEWAY, DYNSEC_ADMIN, startShippedMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';

const VINS = ['LCLXS000000000001', 'LCLXS000000000002'];

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
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, ['bin/shekara.js', ...args, '-c', cliConfig], { encoding: 'utf8' });

  beforeAll(async () => {
    pki = createTestPki();
    mosq = await startShippedMosquitto(pki);
    gw = await startTestGateway({
      cars: 0,
      config: {
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
      },
    });
    for (const vin of VINS)
      secrets.set(vin, (await gw.app.admin.vehicles.register({ vin, oem: 'demo-oem' }, 'test')).secret);
    // The CLI on the same store (and key file) as the running gateway.
    cliConfig = path.join(gw.dir, 'cli.yaml');
    writeFileSync(
      cliConfig,
      stringify({ dataDir: '.', ...(gw.storeConfig ? { store: gw.storeConfig } : {}), log: { level: 'silent' } }),
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

  it('a secret rotated with the CLI: the car is cut off and the old secret refused within reconcileSeconds', async () => {
    const vin = VINS[1]!;
    const c = await connect(vin);
    const closed = closedByServer(c, 30_000);
    const printed = cli('vehicles', 'rotate', vin);
    const secret = /secret \(shown once\): (\S+)/.exec(printed)![1]!;
    await closed;
    expect(await outcome(vin)).toBe(0x87);
    // The CLI cannot hand the new secret to the broker (only its hash is stored): the car stays
    // refused — fail closed — until the secret is rotated through the admin API.
    expect(await outcome(vin, secret)).toBe(0x87);
    const again = await gw.app.admin.vehicles.rotate(vin, {}, 'test');
    await eventually(async () => (await outcome(vin, again.secret)) === 'accepted', 10_000, 'the API-rotated secret');
  });
});
