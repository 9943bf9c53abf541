/**
 * Logs without people: the outside review's cases (refused CONNECTs with a secret or a name
 * typed into the username, wrong secrets, another car's topic, quarantined payloads, HTTPS
 * refusals, admin changes) against a real gateway, its log captured whole. No VIN, username,
 * secret or payload fragment appears in any field; cars are named by their keyed reference,
 * which `shekara vehicles whois` resolves from the store.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandTopic, telemetryTopic } from '../../src/ingest/index.js';
import { VEHICLE_REF_RE } from '../../src/vehicle-ref.js';
import { closedByServer, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { captureLog, type LogCapture } from '../helpers/log-capture.js';
import { shekara } from '../audit/helpers.js';

const TYPED_SECRET = 'MyS3cretPassw0rd-typed-in-username';
const TYPED_NAME = 'Aigerim Nurlanovna +77019998877';
const WRONG_SECRET = 'wrong-secret-CANARY-0123456789abcdef';
const UNKNOWN_VIN = 'LUNKN000000000099';
const PAYLOAD_CANARY = 'CANARYPAYLOAD42';

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('logs › under the review’s cases', () => {
  let gw: TestGateway;
  let cap: LogCapture;
  const bodies: string[] = [];

  const tryConnect = (o: { clientId: string; username: string; password: string }) =>
    mqtt
      .connectAsync(`${gw.mqttUrl}`, {
        ...o,
        protocolVersion: 4,
        keepalive: 30,
        reconnectPeriod: 0,
        connectTimeout: 3_000,
      })
      .then(
        async (c) => {
          await c.endAsync(true);
          return 'connected';
        },
        (err: Error) => err.message,
      );
  const post = async (vin: string, auth: string, body: string) => {
    const res = await fetch(`${gw.httpUrl}/v1/vehicles/${encodeURIComponent(vin)}/telemetry`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body,
    });
    const text = await res.text();
    bodies.push(text);
    return { status: res.status, text };
  };

  beforeAll(async () => {
    cap = captureLog('debug');
    gw = await startTestGateway({ cars: 2, log: cap.log });
    const [a, b] = gw.cars as [{ vin: string; secret: string }, { vin: string; secret: string }];

    // MQTT: refused CONNECTs.
    expect(await tryConnect({ clientId: a.vin, username: TYPED_SECRET, password: 'x' })).not.toBe('connected');
    expect(await tryConnect({ clientId: 'someone', username: TYPED_NAME, password: 'x' })).not.toBe('connected');
    expect(await tryConnect({ clientId: a.vin, username: a.vin, password: WRONG_SECRET })).not.toBe('connected');
    expect(await tryConnect({ clientId: UNKNOWN_VIN, username: UNKNOWN_VIN, password: WRONG_SECRET })).not.toBe(
      'connected',
    );
    // MQTT: another car's command topic, then another car's telemetry topic (disconnects).
    const car = await gw.connect(a);
    // SUBACK 0x80, which mqtt.js reports as an error.
    await expect(car.subscribeAsync(commandTopic(b.vin), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    // A payload that does not decode: quarantined, acknowledged.
    await car.publishAsync(telemetryTopic(a.vin), `x{"account":{"name":"${PAYLOAD_CANARY}"}`, { qos: 1 });
    const closed = closedByServer(car);
    car.publish(telemetryTopic(b.vin), JSON.stringify({ speed: 1 }), { qos: 1 });
    await closed;

    // HTTPS: the same refusals.
    expect((await post(a.vin, basic(TYPED_SECRET, 'x'), '{}')).status).toBe(401);
    expect((await post(a.vin, basic(a.vin, WRONG_SECRET), '{}')).status).toBe(401);
    expect((await post(UNKNOWN_VIN, basic(UNKNOWN_VIN, WRONG_SECRET), '{}')).status).toBe(401);
    expect((await post(b.vin, basic(a.vin, a.secret), '{}')).status).toBe(403);
    expect((await post(a.vin, basic(a.vin, a.secret), `{"speed": "${PAYLOAD_CANARY}"}`)).status).toBe(422);

    // Admin: a rotation and a revocation name the car in the log.
    await gw.app.admin.vehicles.rotate(b.vin, {}, 'test');
    await gw.app.admin.vehicles.revoke(b.vin, 'test');
    await eventually(() => cap.text().includes('payload quarantined'), 3_000, 'the quarantine line');
  });
  afterAll(async () => gw?.stop());

  it('holds no VIN, username or secret in any log line', () => {
    const text = cap.text();
    expect(cap.lines().length).toBeGreaterThan(10);
    for (const s of [...gw.cars.flatMap((c) => [c.vin, c.secret]), UNKNOWN_VIN, TYPED_SECRET, TYPED_NAME, WRONG_SECRET])
      expect(text, s).not.toContain(s);
    // Nor the parts of a VIN-bearing topic.
    expect(text).not.toMatch(/vehicles\/[^/"]+\/(telemetry|commands)/);
  });

  it('holds no payload fragment in any log line or error body', () => {
    expect(cap.text()).not.toContain(PAYLOAD_CANARY);
    for (const b of bodies) {
      expect(b).not.toContain(PAYLOAD_CANARY);
      for (const c of gw.cars) expect(b).not.toContain(c.vin);
    }
  });

  it('names the car by its keyed reference instead', () => {
    const [a, b] = [gw.cars[0]!, gw.cars[1]!];
    const refA = gw.app.vehicleRef(a.vin);
    expect(refA).toMatch(VEHICLE_REF_RE);
    const quarantined = cap.lines().filter((l) => l.msg === 'payload quarantined');
    expect(quarantined.map((l) => l.vehicle)).toEqual([refA, refA]);
    expect(
      cap.lines().some((l) => l.msg === 'admin: vehicle credentials revoked' && l.vehicle === gw.app.vehicleRef(b.vin)),
    ).toBe(true);
    const refused = cap.lines().filter((l) => l.msg === 'mqtt: refused');
    expect(refused.map((l) => l.reason)).toEqual(
      expect.arrayContaining(['bad-username', 'bad-credentials', 'subscribe-topic-denied', 'publish-topic-denied']),
    );
  });

  it('an operator resolves the reference to the VIN with `shekara vehicles whois`', async () => {
    const config = path.join(gw.dir, 'whois.yaml');
    writeFileSync(
      config,
      stringify({ dataDir: gw.dir, ...(gw.storeConfig ? { store: gw.storeConfig } : {}), log: { level: 'silent' } }),
    );
    const a = gw.cars[0]!;
    const r = await shekara('vehicles', 'whois', gw.app.vehicleRef(a.vin), '-c', config);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(a.vin);
    const none = await shekara('vehicles', 'whois', 'vr_0000000000000000', '-c', config);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no registered vehicle has the reference vr_0000000000000000/);
    const bad = await shekara('vehicles', 'whois', a.vin, '-c', config);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a vehicle reference/);
  });
});
