/**
 * The shipped Mosquitto configuration (deploy/brokers/mosquitto/), run as shipped — only ports
 * and file paths changed — with Shekara keeping the dynamic security plugin in sync. Checks the
 * interop review's findings against it: no car joins the gateway's shared-subscription group
 * (D2), client id = username = VIN (D3), certificate-only cars with CN = VIN (D4); and that
 * rotating or revoking a car in Shekara reaches the broker before the admin call returns.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { closedByServer, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  BROKER_GATEWAY as GATEWAY,
  DYNSEC_ADMIN as ADMIN,
  startShippedMosquitto,
  type TestMosquitto,
} from '../helpers/mosquitto.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';

const VINS = ['LTEST000000000A01', 'LTEST000000000A02', 'LTEST000000000A03', 'LTEST000000000A04'];

describe('shipped Mosquitto config with Shekara-driven dynamic security', () => {
  let pki: TestPki;
  let mosq: TestMosquitto;
  let gw: TestGateway;
  let mtlsPort: number;
  const secrets = new Map<string, string>();
  const open: MqttClient[] = [];

  const car = async (vin: string, opts: IClientOptions = {}) => {
    const c = await mqtt.connectAsync(mosq.url, {
      clientId: vin,
      username: vin,
      password: secrets.get(vin),
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...opts,
    });
    open.push(c);
    return c;
  };
  const refused = (vin: string, opts: IClientOptions = {}) =>
    car(vin, opts).then(
      () => 'accepted',
      (err: Error & { code?: number }) => err.code ?? err.message,
    );
  const records = async () => (await gw.app.store.counts()).records;

  beforeAll(async () => {
    pki = createTestPki();
    const shipped = await startShippedMosquitto(pki);
    mosq = shipped;
    mtlsPort = shipped.mtlsPort;
    gw = await startTestGateway({
      cars: 0,
      config: {
        mqtt: {
          mode: 'external',
          external: {
            url: mosq.url,
            ...GATEWAY,
            connections: 2,
            clientIdPrefix: 'shk-cfg',
            credentialSync: { kind: 'mosquitto-dynsec', ...ADMIN },
          },
        },
      },
    });
    for (const vin of VINS) {
      const { secret } = await gw.app.admin.vehicles.register({ vin, oem: 'demo-oem' }, 'test');
      secrets.set(vin, secret);
    }
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.endAsync(true).catch(() => undefined)));
    await gw?.stop();
    await mosq?.stop();
  });

  it('stores what a registered car publishes to its own topic; another car’s topic is refused (0x87)', async () => {
    const before = await records();
    const a = await car(VINS[0]!);
    await a.publishAsync(telemetryTopic(VINS[0]!), '{"speed":1}', { qos: 1 });
    const denied = await a.publishAsync(telemetryTopic(VINS[1]!), '{"speed":2}', { qos: 1 }).then(
      (p) => (p as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
      (err: Error & { code?: number }) => err.code,
    );
    expect(denied).toBe(0x87);
    await eventually(async () => (await records()) === before + 1, 5_000, 'the own-topic record');
  });

  it("D2: a car's SUBSCRIBE to the gateway's shared group is refused and no telemetry goes missing", async () => {
    const rogue = await car(VINS[1]!);
    // MQTT.js rejects a SUBACK holding any refusal; the packet is on the error.
    const granted = await rogue
      .subscribeAsync([`$share/shekara/vehicles/+/telemetry`, 'vehicles/+/telemetry', `vehicles/${VINS[1]}/commands`], {
        qos: 1,
      })
      .then(
        (g) => g.map((x) => x.qos),
        (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
      );
    expect(granted).toEqual([0x87, 0x87, 1]);
    const before = await records();
    const b = await car(VINS[2]!);
    for (let i = 0; i < 30; i++) await b.publishAsync(telemetryTopic(VINS[2]!), `{"speed":${i}}`, { qos: 1 });
    await eventually(async () => (await records()) === before + 30, 10_000, 'all 30 records');
  });

  it('D3: a client id other than the username is refused; the car it names stays connected', async () => {
    const victim = await car(VINS[3]!);
    expect(await refused(VINS[3]!, { username: VINS[0], password: secrets.get(VINS[0]!) })).toBe(0x87);
    expect(victim.connected).toBe(true);
  });

  it('D4: a certificate-only car (CN = VIN) is accepted on the certificate listener, as itself', async () => {
    const vin = VINS[0]!;
    const { cert, key } = pki.vehicle(vin);
    const before = await records();
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${mtlsPort}`, {
      clientId: vin,
      protocolVersion: 5,
      reconnectPeriod: 0,
      ca: readFileSync(pki.caFile),
      cert: readFileSync(cert),
      key: readFileSync(key),
    });
    open.push(c);
    await c.publishAsync(telemetryTopic(vin), '{"speed":7}', { qos: 1 });
    await eventually(async () => (await records()) === before + 1, 5_000, 'the certificate car’s record');
    // Its certificate names it, whatever client id it sends: it cannot take over another car's session.
    const victim = await car(VINS[1]!, { clientId: VINS[1] });
    const other = await mqtt.connectAsync(`mqtts://127.0.0.1:${mtlsPort}`, {
      clientId: VINS[1],
      protocolVersion: 5,
      reconnectPeriod: 0,
      ca: readFileSync(pki.caFile),
      cert: readFileSync(cert),
      key: readFileSync(key),
    });
    open.push(other);
    expect(victim.connected).toBe(true);
  });

  it('rotate: the car is cut off and its old secret refused once the admin call returns; the new one works', async () => {
    const vin = VINS[2]!;
    const c = await car(vin);
    const closed = closedByServer(c, 5_000);
    const { secret } = await gw.app.admin.vehicles.rotate(vin, {}, 'test');
    await closed;
    expect(await refused(vin)).toBe(0x87);
    secrets.set(vin, secret);
    expect(await refused(vin)).toBe('accepted');
  });

  it('revoke: the car is cut off and refused once the admin call returns', async () => {
    const vin = VINS[3]!;
    const c = await car(vin);
    const closed = closedByServer(c, 5_000);
    await gw.app.admin.vehicles.revoke(vin, 'test');
    await closed;
    expect(await refused(vin)).not.toBe('accepted');
  });

  it('revoke: a certificate car is cut off; its certificate still connects, to no rights at all', async () => {
    const vin = VINS[0]!;
    const { cert, key } = pki.vehicle(vin);
    const tls = {
      protocolVersion: 5,
      reconnectPeriod: 0,
      ca: readFileSync(pki.caFile),
      cert: readFileSync(cert),
      key: readFileSync(key),
    } as const;
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${mtlsPort}`, { clientId: vin, ...tls });
    open.push(c);
    const closed = closedByServer(c, 5_000);
    await gw.app.admin.vehicles.revoke(vin, 'test');
    await closed;
    // Mosquitto does not ask the plugin about a certificate identity: the CRL refuses the TLS
    // handshake (deploy config); Shekara's revocation leaves the certificate no rights.
    const before = await records();
    const again = await mqtt.connectAsync(`mqtts://127.0.0.1:${mtlsPort}`, { clientId: vin, ...tls });
    open.push(again);
    const r = await again.publishAsync(telemetryTopic(vin), '{"speed":9}', { qos: 1 }).then(
      (p) => (p as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
      (err: Error & { code?: number }) => err.code,
    );
    expect(r).toBe(0x87);
    const sub = await again.subscribeAsync(`vehicles/${vin}/commands`, { qos: 1 }).then(
      (g) => g.map((x) => x.qos),
      (err: Error) => err.message,
    );
    expect(sub).not.toEqual([1]);
    expect(await records()).toBe(before);
  });
});
