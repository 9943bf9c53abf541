/**
 * A command that serves a purpose needing consent (`purpose:` on a command type) needs the
 * owner's consent to that purpose: when the OEM asks for it and again when it is sent. Real
 * parts: the OEM and the owner app call the gateway over HTTP, one car is a real MQTT client, the
 * other a real GB/T 32960 terminal over TCP; both take their commands from the same queue.
 * What a car never received is proven with a sentinel: an allowed command asked for after the
 * stopped one is the first (and only) thing it receives.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandTopic } from '../../src/ingest/index.js';
import { OWNER_TOKEN_HEADER } from '../../src/api/owner/binding.js';
import { FLAG } from '../../src/ingest/gbt32960/frame.js';
import { SimTerminal } from '../../src/sim/gbt32960.js';
import { leavesOf, oemPolicy, startOemGateway, until, type OemGateway } from './oem-helpers.js';

// battery-research (in oemPolicy) has legalBasis: consent.
const POLICY = oemPolicy(
  'oem-a',
  `
commands:
  maxTtl: PT10M
  types:
    - type: climate-on
      params:
        temperatureC: { type: number, minimum: 16, maximum: 28, required: true }
    - type: battery-check
      purpose: battery-research
    - type: horn
      purpose: speed-profile
    - type: gbt32960-set-parameters
      params:
        heartbeatIntervalSeconds: { type: integer, minimum: 1, maximum: 240 }
    - type: gbt32960-query-parameters
      purpose: battery-research
      params:
        parameters: { type: string, maxLength: 200, required: true }
`,
);

describe('a command serving a purpose that needs consent', () => {
  let g: OemGateway;
  let ownerToken: string;
  const car = (i: number) => g.cars['oem-a']![i]!;
  const pA = (i: number) => g.pseudonym('oem-a', car(i).vin);
  const send = (i: number, body: unknown) =>
    g.call('POST', `/oem/v1/vehicles/${pA(i)}/commands`, g.key('oem', 'oem-a'), body);
  const status = (i: number, id: string) =>
    g.call('GET', `/oem/v1/vehicles/${pA(i)}/commands/${id}`, g.key('oem', 'oem-a'));
  const owner = (method: string, path: string, body?: unknown) =>
    g.call(method, `/owner/v1/vehicles/${path}`, g.key('owner-app'), body, { [OWNER_TOKEN_HEADER]: ownerToken });
  const leaves = async (id: string) => (await leavesOf(g.gw, 'command')).filter((l) => l.commandId === id);
  const grant = async (i: number) =>
    expect((await owner('POST', `${car(i).vin}/consents`, { purpose: 'battery-research' })).status).toBe(201);
  const revoke = async (i: number) =>
    expect((await owner('DELETE', `${car(i).vin}/consents/battery-research`)).status).toBe(200);
  const STOPPED = /^at send time: consent revoked: the owner's consent to "battery-research" for oem-a is no longer/;

  beforeAll(async () => {
    g = await startOemGateway(
      [{ id: 'oem-a', cars: 3, policy: POLICY, config: { apiRateLimit: { requestsPerSecond: 1_000, burst: 1_000 } } }],
      undefined,
      { gbt32960: { enabled: true, tcp: { enabled: true, host: '127.0.0.1', port: 0, allowFrom: ['127.0.0.0/8'] } } },
    );
    ownerToken = (
      await g.gw.app.store.createOwnerToken({
        ownerRef: 'owner-1',
        vins: [car(0).vin, car(1).vin, car(2).vin],
        now: Date.now(),
      })
    ).token;
  }, 30_000);
  afterAll(async () => g?.stop());

  it('is blocked without the consent and allowed with it; a purpose without consent needs none', async () => {
    const r = await send(2, { type: 'battery-check' });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ code: 'SHK_COMMAND_BLOCKED', command: { status: 'blocked' } });
    expect(r.body.message).toBe(
      '"battery-check" serves "battery-research": its owner has not given consent to it for oem-a',
    );
    expect((await leaves(r.body.command.id)).map((l) => [l.action, l.outcome, l.reason])).toEqual([
      ['requested', 'blocked', r.body.message],
    ]);
    expect((await send(2, { type: 'horn' })).status).toBe(202);
    await grant(2);
    expect((await send(2, { type: 'battery-check' })).body.status).toBe('queued');
    const view = await g.call('GET', '/oem/v1/policy', g.key('oem', 'oem-a'));
    expect(view.body.commands.types.find((t: { type: string }) => t.type === 'battery-check')).toMatchObject({
      purpose: 'battery-research',
    });
  });

  it('queued for an MQTT car, never reaches it once the owner revoked the consent; the stop is a leaf', async () => {
    await grant(0);
    const r = await send(0, { type: 'battery-check', ttlSeconds: 300 });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('queued'); // car 0 is offline
    await revoke(0);

    const got: { id: string; type: string }[] = [];
    const client: MqttClient = await g.gw.connect(car(0));
    client.on('message', (_t, payload) => got.push(JSON.parse(payload.toString())));
    await client.subscribeAsync(commandTopic(car(0).vin), { qos: 1 });
    await until(() => g.gw.app.ingest.isCommandSubscriber(car(0).vin), 5_000, 'subscription');
    const sentinel = await send(0, { type: 'climate-on', params: { temperatureC: 21 } });
    await until(() => got.length > 0, 5_000, 'the sentinel');
    expect(got.map((m) => m.id)).toEqual([sentinel.body.id]);

    const s = await status(0, r.body.id);
    expect(s.body).toMatchObject({ status: 'blocked', sentAt: null });
    expect(s.body.reason).toMatch(STOPPED);
    const trail = await leaves(r.body.id);
    expect(trail.map((l) => [l.action, l.outcome])).toEqual([
      ['requested', 'allowed'],
      ['stopped', 'blocked'],
    ]);
    expect(trail[1]!.reason).toBe(s.body.reason);
    expect(JSON.stringify(trail)).not.toContain(car(0).vin);
    // Granted again, a new command goes: the stop was the revocation, nothing else.
    await grant(0);
    const again = await send(0, { type: 'battery-check' });
    expect(again.body.status).toBe('sent');
    await until(() => got.some((m) => m.id === again.body.id), 5_000, 'the command after the new grant');
    await client.endAsync();
  });

  it('queued for a GB/T 32960 terminal, never goes down once the consent was revoked', async () => {
    const port = g.gw.app.ingest.gbt32960Port!;
    await grant(1);
    const r = await send(1, { type: 'gbt32960-query-parameters', params: { parameters: 'heartbeatIntervalSeconds' } });
    expect(r.body.status).toBe('queued'); // the terminal has not logged in
    await revoke(1);

    const t = await SimTerminal.connect({ host: '127.0.0.1', port, vin: car(1).vin });
    try {
      const first = t.nextCommand();
      expect((await t.login()).flag).toBe(FLAG.success);
      await until(async () => (await status(1, r.body.id)).body.status === 'blocked', 5_000, 'the stop');
      const sentinel = await send(1, { type: 'gbt32960-set-parameters', params: { heartbeatIntervalSeconds: 30 } });
      expect(sentinel.body.status).toBe('sent');
      // The first frame the terminal sees is the sentinel's set (0x81), not the query (0x80).
      expect((await first).data.subarray(6).toString('hex')).toBe('01091e');
      expect((await status(1, r.body.id)).body.reason).toMatch(STOPPED);
      expect((await leaves(r.body.id)).map((l) => l.action)).toEqual(['requested', 'stopped']);
    } finally {
      t.close();
    }
  });
});
