/**
 * Guarded downlink commands over real sockets: OEMs call /oem/v1 with fetch, owners call
 * /owner/v1, and cars are real MQTT clients subscribed to their command topics that acknowledge
 * over MQTT. What a car's topic never sees is proven with a sentinel: an allowed command sent
 * after the blocked one is the first (and only) message the car receives.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandAckTopic, commandTopic, generateSecret, hashSecret } from '../../src/ingest/index.js';
import { OWNER_TOKEN_HEADER } from '../../src/api/owner/binding.js';
import { closedByServer } from '../helpers/gateway.js';
import { leavesOf, startOemGateway, until, type OemGateway } from './oem-helpers.js';

interface Received {
  id: string;
  type: string;
  params: Record<string, unknown>;
  expiresAt: string;
}

describe('guarded downlink commands', () => {
  let g: OemGateway;
  let ownerToken: string;
  const inbox = new Map<string, Received[]>();
  const car = (i: number) => g.cars['oem-a']![i]!;
  const pA = (i: number) => g.pseudonym('oem-a', car(i).vin);
  const send = (i: number, body: unknown, oem = 'oem-a', pseudonym = pA(i)) =>
    g.call('POST', `/oem/v1/vehicles/${pseudonym}/commands`, g.key('oem', oem), body);
  const status = (i: number, id: string, oem = 'oem-a') =>
    g.call('GET', `/oem/v1/vehicles/${pA(i)}/commands/${id}`, g.key('oem', oem));
  const owner = (method: string, path: string, body?: unknown, token = ownerToken) =>
    g.call(method, `/owner/v1/vehicles/${path}`, g.key('owner-app'), body, { [OWNER_TOKEN_HEADER]: token });
  /** Connects car i and subscribes it to its command topic; what arrives is collected in inbox. */
  const online = async (i: number): Promise<MqttClient> => {
    const { vin } = car(i);
    const client = await g.gw.connect(car(i));
    inbox.set(vin, inbox.get(vin) ?? []);
    client.on('message', (topic, payload) => {
      expect(topic).toBe(commandTopic(vin));
      inbox.get(vin)!.push(JSON.parse(payload.toString()));
    });
    await client.subscribeAsync(commandTopic(vin), { qos: 1 });
    await until(() => g.gw.app.ingest.isCommandSubscriber(vin), 5_000, 'subscription');
    return client;
  };
  const received = (i: number) => inbox.get(car(i).vin) ?? [];
  const commandLeaves = async (id: string) => (await leavesOf(g.gw, 'command')).filter((l) => l.commandId === id);

  beforeAll(async () => {
    // These tests send oem-a's requests back to back; its API rate limit (tested in api-oem.test.ts)
    // must not turn one of them into a 429 on a slow machine.
    const unthrottled = { apiRateLimit: { requestsPerSecond: 10_000, burst: 100_000 } };
    g = await startOemGateway([
      { id: 'oem-a', cars: 6, config: unthrottled },
      { id: 'oem-b', cars: 1, config: unthrottled },
    ]);
    ownerToken = (
      await g.gw.app.store.createOwnerToken({ ownerRef: 'customer-1', vins: [car(0).vin, car(1).vin], now: Date.now() })
    ).token;
  }, 30_000);
  afterAll(async () => g?.stop());

  describe('a restricting command', () => {
    let client: MqttClient;
    beforeAll(async () => {
      client = await online(0);
    });

    it("is blocked without the owner's approval: it never reaches the car's topic, and the leaf says why", async () => {
      const r = await send(0, { type: 'immobilize' });
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({
        code: 'SHK_COMMAND_BLOCKED',
        command: { status: 'blocked', vehicle: pA(0), type: 'immobilize' },
      });
      expect(r.body.message).toBe('"immobilize" restricts the car: its owner has not approved it for oem-a');
      // Sentinel: an allowed command sent after it is the first thing the car receives.
      const sentinel = await send(0, { type: 'climate-on', params: { temperatureC: 21 } });
      expect(sentinel.status).toBe(202);
      await until(() => received(0).length > 0, 5_000, 'the sentinel');
      expect(received(0).map((m) => m.type)).toEqual(['climate-on']);
      const [leaf, ...rest] = await commandLeaves(r.body.command.id);
      expect(rest).toEqual([]);
      expect(leaf).toMatchObject({
        kind: 'command',
        action: 'requested',
        outcome: 'blocked',
        oem: 'oem-a',
        pseudonym: pA(0),
        type: 'immobilize',
        restricting: true,
        reason: r.body.message,
      });
      expect(JSON.stringify(await leavesOf(g.gw, 'command'))).not.toContain(car(0).vin);
    });

    it("reaches the car once the owner approved it; the car's acknowledgements over MQTT show in its status", async () => {
      const approval = await owner('POST', `${car(0).vin}/command-approvals`, { type: 'immobilize' });
      expect(approval.status).toBe(201);
      expect(approval.body).toMatchObject({ type: 'immobilize', oem: 'oem-a', inForce: true, revokedAt: null });
      expect((await leavesOf(g.gw, 'command')).at(-1)).toMatchObject({
        action: 'approval-granted',
        type: 'immobilize',
        pseudonym: pA(0),
        outcome: 'granted',
      });

      const r = await send(0, { type: 'immobilize', ttlSeconds: 60 });
      expect(r.status).toBe(202);
      expect(r.body.status).toBe('sent');
      const msg = await until(() => received(0).find((m) => m.id === r.body.id), 5_000, 'the immobilize command');
      expect(msg).toEqual({ id: r.body.id, type: 'immobilize', params: {}, expiresAt: r.body.expiresAt });

      await client.publishAsync(commandAckTopic(car(0).vin), JSON.stringify({ id: msg.id, status: 'accepted' }), {
        qos: 1,
      });
      await client.publishAsync(
        commandAckTopic(car(0).vin),
        JSON.stringify({ id: msg.id, status: 'done', detail: 'engine start inhibited' }),
        { qos: 1 },
      );
      const s = await status(0, r.body.id);
      expect(s.status).toBe(200);
      expect(s.body).toMatchObject({
        id: r.body.id,
        status: 'done',
        acks: [
          { status: 'accepted', detail: null },
          { status: 'done', detail: 'engine start inhibited' },
        ],
      });
      expect((await commandLeaves(r.body.id)).map((l) => [l.action, l.outcome])).toEqual([
        ['requested', 'allowed'],
        ['sent', 'sent'],
        ['acknowledged', 'accepted'],
        ['acknowledged', 'done'],
      ]);
      // A final status takes no more acknowledgements.
      await client.publishAsync(commandAckTopic(car(0).vin), JSON.stringify({ id: msg.id, status: 'failed' }), {
        qos: 1,
      });
      expect((await status(0, r.body.id)).body.status).toBe('done');
    });

    it('is blocked again once the owner withdrew the approval', async () => {
      const del = await owner('DELETE', `${car(0).vin}/command-approvals/immobilize`);
      expect(del.body).toEqual({ type: 'immobilize', oem: 'oem-a', revoked: true });
      expect((await send(0, { type: 'immobilize' })).status).toBe(403);
      const list = await owner('GET', `${car(0).vin}/command-approvals`);
      expect(list.body.oem).toBe('oem-a');
      expect(list.body.restrictingTypes).toEqual(['immobilize', 'speed-limit', 'disable-function', 'remote-shutdown']);
      expect(list.body.approvals).toMatchObject([{ type: 'immobilize', inForce: false }]);
      expect((await owner('DELETE', `${car(0).vin}/command-approvals/immobilize`)).status).toBe(404);
    });

    it("cannot be approved for another owner's vehicle, and a type that restricts nothing needs no approval", async () => {
      expect((await owner('POST', `${car(2).vin}/command-approvals`, { type: 'immobilize' })).status).toBe(404);
      const r = await owner('POST', `${car(0).vin}/command-approvals`, { type: 'climate-on' });
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/^body\.type: "climate-on" is not a restricting command of oem-a/);
      expect(
        (await owner('POST', `${car(0).vin}/command-approvals`, { type: 'immobilize', oem: 'oem-b' })).body.message,
      ).toBe('body.oem: unknown field');
      expect((await owner('GET', `${car(0).vin}/command-approvals`, undefined, 'sho_0000000000000000_x')).status).toBe(
        401,
      );
      expect(
        (
          await g.call('GET', `/owner/v1/vehicles/${car(0).vin}/command-approvals`, g.key('oem', 'oem-a'), undefined, {
            [OWNER_TOKEN_HEADER]: ownerToken,
          })
        ).status,
      ).toBe(403);
      expect(
        (
          await g.call('DELETE', `/owner/v1/vehicles/${car(0).vin}/command-approvals/immobilize`, null, undefined, {
            [OWNER_TOKEN_HEADER]: ownerToken,
          })
        ).status,
      ).toBe(401);
    });

    it("lists the owner routes in the owner API's OpenAPI document", async () => {
      const doc = await g.call('GET', '/owner/v1/openapi.json', g.key('owner-app'));
      expect(Object.keys(doc.body.paths['/owner/v1/vehicles/{vin}/command-approvals'])).toEqual(['get', 'post']);
      expect(Object.keys(doc.body.paths['/owner/v1/vehicles/{vin}/command-approvals/{type}'])).toEqual(['delete']);
    });
  });

  describe('the command policy', () => {
    it('refuses a type it does not list, a parameter it does not declare and a value out of range, naming each', async () => {
      const cases: [unknown, string][] = [
        [{ type: 'open-trunk' }, 'command type "open-trunk" is not in this OEM\'s command policy'],
        [{ type: 'climate-on', params: { temperatureC: 40 } }, 'params.temperatureC: must be <= 28'],
        [
          { type: 'climate-on', params: { temperatureC: 20, fan: 3 } },
          'params.fan: not a parameter of "climate-on" (allowed: temperatureC)',
        ],
        [{ type: 'climate-on' }, 'params.temperatureC: required'],
        [
          { type: 'climate-on', params: { temperatureC: 20 }, ttlSeconds: 3600 },
          "ttlSeconds: must be <= 600 (the command policy's maxTtl)",
        ],
      ];
      for (const [body, message] of cases) {
        const r = await send(1, body);
        expect(r.status, message).toBe(403);
        expect(r.body.message).toBe(message);
        expect((await commandLeaves(r.body.command.id))[0]).toMatchObject({ outcome: 'blocked', reason: message });
      }
    });

    it('answers 400 naming the field for a body that is not a command', async () => {
      expect((await send(1, {})).body).toEqual({ code: 'SHK_BAD_REQUEST', message: 'body.type: required' });
      expect((await send(1, { type: 'climate-on', extra: 1 })).body.message).toBe('body.extra: unknown field');
      expect((await send(1, { type: 'climate-on', ttlSeconds: 0 })).body.message).toBe('body.ttlSeconds: must be >= 1');
    });

    it('limits a type per vehicle per hour: 429 with Retry-After, recorded as blocked', async () => {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await send(3, { type: 'climate-on', params: { temperatureC: 20 } });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([202, 202, 202, 429]);
      expect(last!.body).toMatchObject({
        code: 'SHK_RATE_LIMITED',
        message: 'at most 3 "climate-on" commands per vehicle per hour',
        command: { status: 'blocked' },
      });
      const retry = Number(last!.headers.get('retry-after'));
      expect(retry).toBeGreaterThan(3500);
      expect(retry).toBeLessThanOrEqual(3600);
      // Per vehicle: another car of the same OEM is not limited by it.
      expect((await send(4, { type: 'climate-on', params: { temperatureC: 20 } })).status).toBe(202);
    });
  });

  describe('a car that is offline', () => {
    it('gets a waiting command when it subscribes again', async () => {
      const r = await send(2, { type: 'climate-on', params: { temperatureC: 19 } });
      expect(r.body.status).toBe('queued');
      await online(2);
      await until(() => received(2).find((m) => m.id === r.body.id), 5_000, 'the queued command');
      expect((await status(2, r.body.id)).body.status).toBe('sent');
    });

    it('never gets a command whose ttl passed first; the expiry is a leaf', async () => {
      const r = await send(5, { type: 'climate-on', params: { temperatureC: 19 }, ttlSeconds: 1 });
      expect(r.body.status).toBe('queued');
      await until(async () => (await status(5, r.body.id)).body.status === 'expired', 5_000, 'expiry');
      await online(5);
      const sentinel = await send(5, { type: 'climate-on', params: { temperatureC: 22 } });
      await until(() => received(5).length > 0, 5_000, 'the sentinel');
      expect(received(5).map((m) => m.id)).toEqual([sentinel.body.id]);
      expect((await commandLeaves(r.body.id)).map((l) => l.action)).toEqual(['requested', 'expired']);
    });
  });

  describe('a queued command, checked again when it is sent', () => {
    it('never reaches the car once the owner withdrew the approval while it waited (stopped at once); the stop is a leaf', async () => {
      expect((await owner('POST', `${car(1).vin}/command-approvals`, { type: 'immobilize' })).status).toBe(201);
      const r = await send(1, { type: 'immobilize', ttlSeconds: 300 });
      expect(r.body.status).toBe('queued'); // car 1 is offline
      expect((await owner('DELETE', `${car(1).vin}/command-approvals/immobilize`)).body.revoked).toBe(true);
      await online(1);
      const sentinel = await send(1, { type: 'climate-on', params: { temperatureC: 21 } });
      await until(() => received(1).length > 0, 5_000, 'the sentinel');
      expect(received(1).map((m) => m.id)).toEqual([sentinel.body.id]);
      const s = await status(1, r.body.id);
      expect(s.body).toMatchObject({ status: 'blocked', sentAt: null });
      expect(s.body.reason).toMatch(
        /^on revocation: "immobilize" restricts the car: its owner's approval for oem-a was withdrawn/,
      );
      expect((await commandLeaves(r.body.id)).map((l) => [l.action, l.outcome])).toEqual([
        ['requested', 'allowed'],
        ['stopped', 'blocked'],
      ]);
    });

    it('never reaches the car once its OEM was disabled while it waited', async () => {
      const b = g.cars['oem-b']![0]!;
      const r = await send(
        0,
        { type: 'climate-on', params: { temperatureC: 20 } },
        'oem-b',
        g.pseudonym('oem-b', b.vin),
      );
      expect(r.body.status).toBe('queued');
      await g.gw.app.store.setOemDisabled('oem-b', Date.now(), Date.now());
      const client = await g.gw.connect(b);
      const got: string[] = [];
      client.on('message', (_t, p) => got.push(p.toString()));
      await client.subscribeAsync(commandTopic(b.vin), { qos: 1 });
      const c = await until(
        async () => {
          const row = await g.gw.app.store.getCommand(r.body.id);
          return row?.status === 'blocked' && row;
        },
        5_000,
        'the stop',
      );
      expect(c.reason).toBe('at send time: OEM oem-b is disabled');
      expect(got).toEqual([]);
      expect((await commandLeaves(r.body.id)).map((l) => l.action)).toEqual(['requested', 'stopped']);
      await g.gw.app.store.setOemDisabled('oem-b', null, Date.now());
    });
  });

  describe('parameters', () => {
    it('are stored exactly as sent: true stays true', async () => {
      const r = await send(4, { type: 'immobilize', params: { force: true } });
      expect(r.status).toBe(403); // not a parameter of immobilize: blocked, and recorded
      expect(r.body.command.params).toEqual({ force: true });
      expect((await status(4, r.body.command.id)).body.params).toEqual({ force: true });
      expect((await g.gw.app.store.getCommand(r.body.command.id))!.params).toEqual({ force: true });
      const s = await send(4, { type: 'climate-on', params: { temperatureC: '19' } });
      expect(s.status).toBe(403); // a string is not a number, not coerced into one
      expect(s.body.command.params).toEqual({ temperatureC: '19' });
    });
  });

  describe("the car's acknowledgement", () => {
    it("cannot change another car's command, and a malformed one disconnects the car", async () => {
      const r = await send(2, { type: 'climate-on', params: { temperatureC: 23 } });
      await until(() => received(2).find((m) => m.id === r.body.id), 5_000, 'the command');
      const other = await online(4);
      await other.publishAsync(commandAckTopic(car(4).vin), JSON.stringify({ id: r.body.id, status: 'failed' }), {
        qos: 1,
      });
      expect((await status(2, r.body.id)).body.status).toBe('sent');
      // Only its own ack topic, and only a valid acknowledgement.
      const closed = closedByServer(other);
      other.publish(commandAckTopic(car(4).vin), JSON.stringify({ id: r.body.id, status: 'exploded' }), { qos: 1 });
      await closed;
      expect(g.gw.app.ingest.counters.rejected['command-ack-invalid']).toBe(1);
    });
  });

  describe('tenant isolation', () => {
    it('answers 404 to another OEM for every command route, and for an unknown pseudonym', async () => {
      const mine = await send(1, { type: 'climate-on', params: { temperatureC: 20 } });
      expect(mine.status).toBe(202);
      expect((await send(1, { type: 'climate-on', params: { temperatureC: 20 } }, 'oem-b')).status).toBe(404);
      expect((await status(1, mine.body.id, 'oem-b')).status).toBe(404);
      const pB = g.pseudonym('oem-b', g.cars['oem-b']![0]!.vin);
      expect(
        (await g.call('GET', `/oem/v1/vehicles/${pB}/commands/${mine.body.id}`, g.key('oem', 'oem-b'))).status,
      ).toBe(404);
      // oem-a may not command oem-b's car by the pseudonym oem-b knows it by.
      expect((await send(0, { type: 'climate-on', params: { temperatureC: 20 } }, 'oem-a', pB)).status).toBe(404);
      expect((await send(0, { type: 'climate-on' }, 'oem-a', 'A'.repeat(22))).body).toMatchObject({
        code: 'SHK_NOT_FOUND',
      });
    });

    it('stops answering an OEM for a car re-registered to another OEM', async () => {
      const pseudonym = pA(3);
      expect((await status(3, (await send(3, { type: 'immobilize' })).body.command.id)).status).toBe(200);
      await g.gw.app.store.registerVehicle({
        vin: car(3).vin,
        oem: 'oem-b',
        ...hashSecret(generateSecret()),
        replace: true,
      });
      expect((await send(3, { type: 'immobilize' }, 'oem-a', pseudonym)).status).toBe(404);
    });
  });
});
