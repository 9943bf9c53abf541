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
import { FLAG } from '../../src/ingest/gbt32960/frame.js';
import { SimTerminal } from '../../src/sim/gbt32960.js';
import { until } from './oem-helpers.js';
import { commandCalls, startCommandWorld, type CommandWorld } from './command-helpers.js';

describe('a command serving a purpose that needs consent', () => {
  let w: CommandWorld;
  const { car, send, status, owner, leaves, grant } = commandCalls(() => w);
  const STOPPED = /^at send time: consent revoked: the owner's consent to "battery-research" for oem-a is no longer/;
  /**
   * A grant that lapses 1.5 s from now; resolves once it has. A revocation through the owner API
   * stops queued commands at once (commands-resend.test.ts); a lapse is seen by nothing but the
   * send-time check, which is what these cases prove.
   */
  const lapsed = async (i: number, queue: () => ReturnType<typeof send>) => {
    const validUntil = Date.now() + 1_500;
    const r = await owner('POST', `${car(i).vin}/consents`, {
      purpose: 'battery-research',
      validUntil: new Date(validUntil).toISOString(),
    });
    expect(r.status).toBe(201);
    const queued = await queue();
    await until(() => Date.now() > validUntil + 50, 5_000, 'the grant to lapse');
    return queued;
  };

  beforeAll(async () => {
    w = await startCommandWorld(3, {
      gbt32960: { enabled: true, tcp: { enabled: true, host: '127.0.0.1', port: 0, allowFrom: ['127.0.0.0/8'] } },
    });
  }, 30_000);
  afterAll(async () => w?.g.stop());

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
    const view = await w.g.call('GET', '/oem/v1/policy', w.g.key('oem', 'oem-a'));
    expect(view.body.commands.types.find((t: { type: string }) => t.type === 'battery-check')).toMatchObject({
      purpose: 'battery-research',
    });
  });

  it('queued for an MQTT car, never reaches it once the consent lapsed; the stop is a leaf', async () => {
    const r = await lapsed(0, () => send(0, { type: 'battery-check', ttlSeconds: 300 }));
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('queued'); // car 0 is offline

    const got: { id: string; type: string }[] = [];
    const client: MqttClient = await w.g.gw.connect(car(0));
    client.on('message', (_t, payload) => got.push(JSON.parse(payload.toString())));
    await client.subscribeAsync(commandTopic(car(0).vin), { qos: 1 });
    await until(() => w.g.gw.app.ingest.isCommandSubscriber(car(0).vin), 5_000, 'subscription');
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

  it('queued for a GB/T 32960 terminal, never goes down once the consent lapsed', async () => {
    const port = w.g.gw.app.ingest.gbt32960Port!;
    const r = await lapsed(1, () =>
      send(1, { type: 'gbt32960-query-parameters', params: { parameters: 'heartbeatIntervalSeconds' } }),
    );
    expect(r.body.status).toBe('queued'); // the terminal has not logged in

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
