/**
 * Guarded downlink commands in external-broker mode, end to end through the shipped Mosquitto
 * configuration (dynamic security kept by Shekara): the OEM asks over /oem/v1, the owner approves
 * over /owner/v1, the gateway publishes to `vehicles/{VIN}/commands` through its own broker
 * connection, and the car's acknowledgements come back through the shared subscription. Cars are
 * real MQTT clients with persistent sessions at the broker; what a car's topic never sees is
 * proven with a sentinel (an allowed command sent after it is the only message the car gets).
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandAckTopic, commandTopic, telemetryTopic } from '../../src/ingest/index.js';
import { OWNER_TOKEN_HEADER } from '../../src/api/owner/binding.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { BROKER_GATEWAY, DYNSEC_ADMIN, startShippedMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { leavesOf, oemPolicy } from '../api/oem-helpers.js';

interface Received {
  id: string;
  type: string;
  params: Record<string, unknown>;
  expiresAt: string;
}

const VINS = Array.from({ length: 7 }, (_, i) => `LCMDX00000000000${i}`);
const OEM = 'demo-oem';

describe('downlink commands through an external broker (shipped Mosquitto config)', () => {
  let pki: TestPki;
  let mosq: TestMosquitto;
  let gw: TestGateway;
  let oemKey: string;
  let ownerAppKey: string;
  let ownerToken: string;
  const secrets = new Map<string, string>();
  const inbox = new Map<string, Received[]>();
  const open: MqttClient[] = [];

  const call = async (method: string, url: string, key: string, body?: unknown, headers = {}) => {
    const res = await fetch(`${gw.httpUrl}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const pseudonym = (vin: string) => gw.app.policy.pseudonymFor(OEM, vin, Date.now())!;
  const send = (vin: string, body: unknown) =>
    call('POST', `/oem/v1/vehicles/${pseudonym(vin)}/commands`, oemKey, body);
  const status = async (vin: string, id: string) =>
    (await call('GET', `/oem/v1/vehicles/${pseudonym(vin)}/commands/${id}`, oemKey)).body;
  const owner = (method: string, path: string, body?: unknown) =>
    call(method, `/owner/v1/vehicles/${path}`, ownerAppKey, body, { [OWNER_TOKEN_HEADER]: ownerToken });
  const commandLeaves = async (id: string) => (await leavesOf(gw, 'command')).filter((l) => l.commandId === id);
  const received = (vin: string) => inbox.get(vin) ?? [];

  /**
   * Connects a car to the broker (MQTT 5) as itself. The message handler is in place before the
   * connection opens: a resumed session's queued commands arrive straight after CONNACK.
   * `persistent`: clean start off, the session kept an hour.
   */
  const car = (vin: string, persistent = true, opts: IClientOptions = {}) =>
    new Promise<MqttClient & { sessionPresent: boolean }>((resolve, reject) => {
      const c = mqtt.connect(mosq.url, {
        clientId: vin,
        username: vin,
        password: secrets.get(vin),
        protocolVersion: 5,
        clean: !persistent,
        ...(persistent ? { properties: { sessionExpiryInterval: 3600 } } : {}),
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        ...opts,
      });
      open.push(c);
      inbox.set(vin, inbox.get(vin) ?? []);
      c.on('message', (topic, payload) => {
        expect(topic).toBe(commandTopic(vin));
        inbox.get(vin)!.push(JSON.parse(payload.toString()));
      });
      c.once('connect', (connack) => resolve(Object.assign(c, { sessionPresent: connack.sessionPresent })));
      c.once('error', reject);
    });
  /** Telemetry from the car, stored: the gateway has seen the car. */
  const report = async (c: MqttClient, vin: string) => {
    const before = (await gw.app.store.counts()).records;
    await c.publishAsync(telemetryTopic(vin), '{"speed":10}', { qos: 1 });
    await eventually(async () => (await gw.app.store.counts()).records > before, 10_000, 'the telemetry record');
  };
  const ack = (c: MqttClient, vin: string, body: unknown) =>
    c.publishAsync(commandAckTopic(vin), JSON.stringify(body), { qos: 1 });
  /** A car subscribed to its command topic once, with a persistent session, then gone: offline. */
  const leaveSession = async (vin: string) => {
    const c = await car(vin);
    await c.subscribeAsync(commandTopic(vin), { qos: 1 });
    await c.endAsync();
  };

  beforeAll(async () => {
    pki = createTestPki();
    mosq = await startShippedMosquitto(pki);
    gw = await startTestGateway({
      cars: 0,
      policy: oemPolicy(OEM),
      config: {
        mqtt: {
          mode: 'external',
          external: {
            url: mosq.url,
            ...BROKER_GATEWAY,
            connections: 2,
            clientIdPrefix: 'shk-cmd',
            // After "no subscribers", the next try in 200 ms, not the 5 s an operator's cars get.
            commandRetryMinMs: 200,
            credentialSync: { kind: 'mosquitto-dynsec', ...DYNSEC_ADMIN },
          },
        },
      },
    });
    for (const vin of VINS) secrets.set(vin, (await gw.app.admin.vehicles.register({ vin, oem: OEM }, 'test')).secret);
    const key = (role: 'oem' | 'owner-app', scope: string | null) =>
      gw.app.store.createApiKey({ role, scope, label: `test ${role}`, now: Date.now() }).then((k) => k.key);
    oemKey = await key('oem', OEM);
    ownerAppKey = await key('owner-app', null);
    ownerToken = (await gw.app.store.createOwnerToken({ ownerRef: 'customer-1', vins: VINS, now: Date.now() })).token;
  }, 60_000);
  afterAll(async () => {
    await Promise.all(open.map((c) => c.endAsync(true).catch(() => undefined)));
    await gw?.stop();
    await mosq?.stop();
  });

  it('an offline car with a persistent session gets its waiting command when it is back, without subscribing again; its acks reach the status', async () => {
    const vin = VINS[0]!;
    await leaveSession(vin);
    const r = await send(vin, { type: 'climate-on', params: { temperatureC: 21 }, ttlSeconds: 300 });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('queued');

    const c = await car(vin);
    expect(c.sessionPresent).toBe(true);
    await report(c, vin);
    const msg = await eventually(() => received(vin).find((m) => m.id === r.body.id), 10_000, 'the command');
    expect(msg).toEqual({
      id: r.body.id,
      type: 'climate-on',
      params: { temperatureC: 21 },
      expiresAt: r.body.expiresAt,
    });

    await ack(c, vin, { id: msg.id, status: 'accepted' });
    await ack(c, vin, { id: msg.id, status: 'done', detail: 'cabin at 21 °C' });
    await eventually(async () => (await status(vin, r.body.id)).status === 'done', 10_000, 'status done');
    expect(await status(vin, r.body.id)).toMatchObject({
      status: 'done',
      acks: [
        { status: 'accepted', detail: null },
        { status: 'done', detail: 'cabin at 21 °C' },
      ],
    });
    expect((await commandLeaves(r.body.id)).map((l) => [l.action, l.outcome])).toEqual([
      ['requested', 'allowed'],
      ['sent', 'sent'],
      ['acknowledged', 'accepted'],
      ['acknowledged', 'done'],
    ]);
    expect(received(vin)).toHaveLength(1);
    await c.endAsync();
  });

  it('a car that just went offline: the broker holds the command in its persistent session until it is back', async () => {
    const vin = VINS[1]!;
    const c = await car(vin);
    await c.subscribeAsync(commandTopic(vin), { qos: 1 });
    await report(c, vin);
    await c.endAsync();
    const r = await send(vin, { type: 'climate-on', params: { temperatureC: 19 } });
    expect(r.status).toBe(202);
    // The gateway saw the car a moment ago: the command went to the broker, which queues it for the session.
    expect(r.body.status).toBe('sent');
    const back = await car(vin);
    expect(back.sessionPresent).toBe(true);
    const msg = await eventually(() => received(vin).find((m) => m.id === r.body.id), 10_000, 'the command');
    await ack(back, vin, { id: msg.id, status: 'done' });
    await eventually(async () => (await status(vin, r.body.id)).status === 'done', 10_000, 'status done');
    await back.endAsync();
  });

  it("a restricting command: blocked without the owner's approval, sent and acknowledged once approved", async () => {
    const vin = VINS[2]!;
    const c = await car(vin);
    await c.subscribeAsync(commandTopic(vin), { qos: 1 });
    await report(c, vin);
    const blocked = await send(vin, { type: 'immobilize' });
    expect(blocked.status).toBe(403);
    expect(blocked.body.message).toBe(`"immobilize" restricts the car: its owner has not approved it for ${OEM}`);

    expect((await owner('POST', `${vin}/command-approvals`, { type: 'immobilize' })).status).toBe(201);
    const r = await send(vin, { type: 'immobilize', ttlSeconds: 60 });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('sent');
    const msg = await eventually(() => received(vin).find((m) => m.id === r.body.id), 10_000, 'the command');
    // The blocked one never reached the car's topic.
    expect(received(vin).map((m) => m.id)).toEqual([r.body.id]);
    await ack(c, vin, { id: msg.id, status: 'done', detail: 'engine start inhibited' });
    await eventually(async () => (await status(vin, r.body.id)).status === 'done', 10_000, 'status done');
    expect((await commandLeaves(blocked.body.command.id)).map((l) => [l.action, l.outcome])).toEqual([
      ['requested', 'blocked'],
    ]);
    expect(JSON.stringify(await leavesOf(gw, 'command'))).not.toContain(vin);
    await c.endAsync();
  });

  it('a waiting command whose approval was withdrawn is stopped when the car is back, never published', async () => {
    const vin = VINS[3]!;
    await leaveSession(vin);
    expect((await owner('POST', `${vin}/command-approvals`, { type: 'immobilize' })).status).toBe(201);
    const r = await send(vin, { type: 'immobilize', ttlSeconds: 300 });
    expect(r.body.status).toBe('queued');
    expect((await owner('DELETE', `${vin}/command-approvals/immobilize`)).body.revoked).toBe(true);

    const c = await car(vin);
    await report(c, vin);
    await eventually(async () => (await status(vin, r.body.id)).status === 'blocked', 10_000, 'the stop');
    const sentinel = await send(vin, { type: 'climate-on', params: { temperatureC: 22 } });
    await eventually(() => received(vin).length > 0, 10_000, 'the sentinel');
    expect(received(vin).map((m) => m.id)).toEqual([sentinel.body.id]);
    const s = await status(vin, r.body.id);
    expect(s).toMatchObject({ status: 'blocked', sentAt: null });
    expect(s.reason).toMatch(
      /^on revocation: "immobilize" restricts the car: its owner's approval for demo-oem was withdrawn/,
    );
    expect((await commandLeaves(r.body.id)).map((l) => [l.action, l.outcome])).toEqual([
      ['requested', 'allowed'],
      ['stopped', 'blocked'],
    ]);
    await c.endAsync();
  });

  it('a command whose ttl passed while the car was offline is expired, never published', async () => {
    const vin = VINS[4]!;
    await leaveSession(vin);
    const r = await send(vin, { type: 'climate-on', params: { temperatureC: 19 }, ttlSeconds: 1 });
    expect(r.body.status).toBe('queued');
    await eventually(async () => (await status(vin, r.body.id)).status === 'expired', 10_000, 'the expiry');
    const c = await car(vin);
    await report(c, vin);
    const sentinel = await send(vin, { type: 'climate-on', params: { temperatureC: 22 } });
    await eventually(() => received(vin).length > 0, 10_000, 'the sentinel');
    expect(received(vin).map((m) => m.id)).toEqual([sentinel.body.id]);
    expect((await commandLeaves(r.body.id)).map((l) => l.action)).toEqual(['requested', 'expired']);
    await c.endAsync();
  });

  it('a car without a subscription at the broker: nothing reached it, the command waits and goes once it subscribes', async () => {
    const vin = VINS[5]!;
    const c = await car(vin, false);
    await report(c, vin);
    const r = await send(vin, { type: 'climate-on', params: { temperatureC: 20 } });
    expect(r.status).toBe(202);
    // The broker answered "no matching subscribers": the command is queued again.
    expect(r.body.status).toBe('queued');
    await c.subscribeAsync(commandTopic(vin), { qos: 1 });
    const msg = await eventually(() => received(vin).find((m) => m.id === r.body.id), 20_000, 'the retried command');
    expect(msg.type).toBe('climate-on');
    expect((await status(vin, r.body.id)).status).toBe('sent');
    await c.endAsync();
  });

  it("acknowledgements: another car's command is not changed, an invalid one is counted, another car's ack topic is refused by the broker", async () => {
    const [a, b] = [VINS[6]!, VINS[1]!];
    const ca = await car(a);
    await ca.subscribeAsync(commandTopic(a), { qos: 1 });
    await report(ca, a);
    const r = await send(a, { type: 'climate-on', params: { temperatureC: 23 } });
    await eventually(() => received(a).find((m) => m.id === r.body.id), 10_000, 'the command');
    const cb = await car(b);
    // On its own ack topic, another car's command id: ignored.
    await ack(cb, b, { id: r.body.id, status: 'failed' });
    const invalidBefore = gw.app.ingest.counters.rejected['command-ack-invalid'] ?? 0;
    await ack(cb, b, { id: r.body.id, status: 'exploded' });
    await eventually(
      () => (gw.app.ingest.counters.rejected['command-ack-invalid'] ?? 0) === invalidBefore + 1,
      10_000,
      'the invalid ack counted',
    );
    // On the other car's ack topic: the broker refuses it (0x87), nothing reaches Shekara. (Last on
    // this connection: Mosquitto 2.0.11 answers no further QoS 1 PUBLISH after an MQTT 5 refusal.)
    const denied = await ack(cb, a, { id: r.body.id, status: 'failed' }).then(
      (p) => (p as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
      (err: Error & { code?: number }) => err.code,
    );
    expect(denied).toBe(0x87);
    cb.end(true);
    // Its own car's acknowledgement is the only one recorded.
    await ack(ca, a, { id: r.body.id, status: 'done' });
    await eventually(async () => (await status(a, r.body.id)).status !== 'sent', 10_000, 'the ack');
    expect(await status(a, r.body.id)).toMatchObject({ status: 'done', acks: [{ status: 'done' }] });
    expect((await commandLeaves(r.body.id)).map((l) => [l.action, l.outcome])).toEqual([
      ['requested', 'allowed'],
      ['sent', 'sent'],
      ['acknowledged', 'done'],
    ]);
  });
});
