/**
 * Downlink to GB/T 32960 cars through the same guarded-command path as MQTT: an OEM asks over
 * /oem/v1 (real HTTP), the command policy and the owner's approval decide, the command is a
 * 'command' leaf at each step, and an allowed one reaches the real TCP terminal as a 0x80/0x81/
 * 0x82 frame; the terminal's answer is the acknowledgement. What GB/T must never do (re-point
 * the car's platform) is refused in code, whatever the policy says, and never reaches the car.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CMD, FLAG } from '../../../src/ingest/gbt32960/frame.js';
import { commandFrame, parseQueryAnswer } from '../../../src/ingest/gbt32960/commands.js';
import { encodeTime } from '../../../src/ingest/gbt32960/reader.js';
import { SimTerminal } from '../../../src/sim/gbt32960.js';
import { OWNER_TOKEN_HEADER } from '../../../src/api/owner/binding.js';
import { leavesOf, startOemGateway, until, type OemGateway } from '../../api/oem-helpers.js';

const POLICY = `
oem: oem-a
purposes:
  - id: speed
    description: Speed.
    fields:
      Vehicle.Speed: pass
commands:
  maxTtl: PT10M
  types:
    - type: gbt32960-set-parameters
      description: Terminal parameters.
      params:
        heartbeatIntervalSeconds: { type: integer, minimum: 1, maximum: 240 }
        platformPort: { type: integer, minimum: 0, maximum: 65531 }
    - type: gbt32960-query-parameters
      description: Read terminal parameters.
      params:
        parameters: { type: string, maxLength: 200, required: true }
    - type: remote-shutdown
      description: Switch the terminal off.
`;

describe('gbt32960 command frames', () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5);
  it('a parameter set is time, count, then id and value at the edition’s width', () => {
    const f = commandFrame({ type: 'gbt32960-set-parameters', params: { heartbeatIntervalSeconds: 30 } }, 2016, at);
    expect(f).toEqual({ command: CMD.set, data: Buffer.concat([encodeTime(at), Buffer.from([1, 0x09, 30])]) });
    const g = commandFrame({ type: 'gbt32960-set-parameters', params: { reportIntervalSeconds: 10 } }, 2016, at);
    expect('data' in g && g.data.subarray(6).toString('hex')).toBe('0102000a');
    const h = commandFrame({ type: 'gbt32960-set-parameters', params: { reportIntervalSeconds: 10 } }, 2025, at);
    expect('data' in h && h.data.subarray(6).toString('hex')).toBe('01020a');
  });
  it('never sets a platform address, never sends an upgrade or a factory reset', () => {
    for (const params of [{ platformPort: 1 }, { platformDomain: 'x' }, { publicPlatformPort: 1 }])
      expect(commandFrame({ type: 'gbt32960-set-parameters', params }, 2016, at)).toHaveProperty('refused');
    for (const type of ['gbt32960-upgrade', 'gbt32960-factory-reset', 'immobilize'])
      expect(commandFrame({ type, params: {} }, 2016, at)).toHaveProperty('refused');
    expect(
      commandFrame({ type: 'gbt32960-set-parameters', params: { reportIntervalSeconds: 31 } }, 2025, at),
    ).toHaveProperty('refused');
  });
  it('a query answer is read by parameter name; a domain takes its length from the parameter before it', () => {
    const data = Buffer.concat([
      encodeTime(at),
      Buffer.from([4, 0x09, 30, 0x04, 3]),
      Buffer.from([0x05, ...Buffer.from('a.b')]),
      Buffer.from([0x06, 0x80, 0xc0]),
    ]);
    expect(parseQueryAnswer(data, 2016)).toEqual({
      heartbeatIntervalSeconds: 30,
      platformDomain: 'a.b',
      platformPort: 32960,
    });
    expect(() => parseQueryAnswer(data.subarray(0, data.length - 1), 2016)).toThrow(/ends inside/);
  });
});

describe('gbt32960 downlink through the guarded command path', () => {
  let g: OemGateway;
  let t: SimTerminal;
  const car = () => g.cars['oem-a']![0]!;
  const p = () => g.pseudonym('oem-a', car().vin);
  const send = (body: unknown) => g.call('POST', `/oem/v1/vehicles/${p()}/commands`, g.key('oem', 'oem-a'), body);
  const status = (id: string) => g.call('GET', `/oem/v1/vehicles/${p()}/commands/${id}`, g.key('oem', 'oem-a'));
  const leaves = async (id: string) =>
    (await leavesOf(g.gw, 'command')).filter((l) => l.commandId === id).map((l) => [l.action, l.outcome]);

  beforeAll(async () => {
    g = await startOemGateway(
      [{ id: 'oem-a', cars: 1, policy: POLICY, config: { apiRateLimit: { requestsPerSecond: 1_000, burst: 1_000 } } }],
      undefined,
      { gbt32960: { enabled: true, tcp: { enabled: true, host: '127.0.0.1', port: 0, allowFrom: ['127.0.0.0/8'] } } },
    );
    t = await SimTerminal.connect({ host: '127.0.0.1', port: g.gw.app.ingest.gbt32960Port!, vin: car().vin });
    expect((await t.login()).flag).toBe(FLAG.success);
    await until(() => g.gw.app.ingest.isCommandSubscriber(car().vin), 5_000, 'the terminal online for commands');
  }, 30_000);
  afterAll(async () => {
    t?.close();
    await g?.stop();
  });

  it('a parameter set reaches the terminal as 0x81; its success answer is the acknowledgement', async () => {
    const incoming = t.nextCommand();
    const r = await send({ type: 'gbt32960-set-parameters', params: { heartbeatIntervalSeconds: 30 } });
    expect(r.status).toBe(202);
    const f = await incoming;
    expect([f.command, f.flag, f.vin]).toEqual([CMD.set, FLAG.command, car().vin]);
    expect(f.data.subarray(6).toString('hex')).toBe('01091e');
    t.answerCommand(f, FLAG.success);
    const s = await until(
      async () => {
        const x = await status(r.body.id);
        return x.body.status === 'done' && x;
      },
      5_000,
      'the acknowledgement',
    );
    expect(s.body.acks).toMatchObject([{ status: 'done' }]);
    expect(await leaves(r.body.id)).toEqual([
      ['requested', 'allowed'],
      ['sent', 'sent'],
      ['acknowledged', 'done'],
    ]);
  });

  it('a parameter query: the values the terminal answers are the acknowledgement’s detail; an error answer is "rejected"', async () => {
    const incoming = t.nextCommand();
    const r = await send({ type: 'gbt32960-query-parameters', params: { parameters: 'heartbeatIntervalSeconds' } });
    expect(r.status).toBe(202);
    const f = await incoming;
    expect([f.command, f.data.subarray(6).toString('hex')]).toEqual([CMD.query, '0109']);
    t.answerCommand(f, FLAG.success, Buffer.concat([f.data.subarray(0, 6), Buffer.from([1, 0x09, 30])]));
    const s = await until(
      async () => {
        const x = await status(r.body.id);
        return x.body.status === 'done' && x;
      },
      5_000,
      'the query answer',
    );
    expect(JSON.parse(s.body.acks[0].detail)).toEqual({ heartbeatIntervalSeconds: 30 });

    const again = t.nextCommand();
    const r2 = await send({ type: 'gbt32960-query-parameters', params: { parameters: 'firmwareVersion' } });
    t.answerCommand(await again, FLAG.error);
    await until(async () => (await status(r2.body.id)).body.status === 'rejected', 5_000, 'the error answer');
    // It did reach the terminal, which refused it: the log says both, and why.
    const log = (await leavesOf(g.gw, 'command')).filter((l) => l.commandId === r2.body.id);
    expect(log.map((l) => [l.action, l.outcome, l.reason])).toEqual([
      ['requested', 'allowed', null],
      ['sent', 'sent', null],
      ['acknowledged', 'rejected', 'terminal answered with flag 0x02'],
    ]);
  });

  it('setting the platform address is refused by Shekara even where the policy allows it: never sent, never logged as sent', async () => {
    const r = await send({ type: 'gbt32960-set-parameters', params: { platformPort: 443 } });
    expect(r.status).toBe(403);
    expect(r.body.command).toMatchObject({
      status: 'blocked',
      reason: expect.stringMatching(/platformPort.*not set through Shekara/),
    });
    const s = await status(r.body.command.id);
    expect(s.body).toMatchObject({ status: 'blocked', acks: [] });
    // The egress log shows what happened: allowed by the policy, stopped before it left, no 'sent'.
    const log = (await leavesOf(g.gw, 'command')).filter((l) => l.commandId === r.body.command.id);
    expect(log.map((l) => [l.action, l.outcome])).toEqual([
      ['requested', 'allowed'],
      ['stopped', 'blocked'],
    ]);
    expect(log[1]!.reason).toMatch(/platformPort.*not set through Shekara/);
    // Sentinel: the next allowed command is the first frame the terminal receives.
    const incoming = t.nextCommand();
    const sentinel = await send({ type: 'gbt32960-set-parameters', params: { heartbeatIntervalSeconds: 20 } });
    const f = await incoming;
    expect(f.data.subarray(6).toString('hex')).toBe('010914');
    t.answerCommand(f, FLAG.success);
    await until(async () => (await status(sentinel.body.id)).body.status === 'done', 5_000, 'the sentinel');
  });

  it('a command asked for while the terminal is offline waits, and goes down once it logs in', async () => {
    t.close();
    await until(() => !g.gw.app.ingest.isCommandSubscriber(car().vin), 5_000, 'the terminal offline');
    const r = await send({ type: 'gbt32960-set-parameters', params: { heartbeatIntervalSeconds: 40 } });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('queued');
    t = await SimTerminal.connect({ host: '127.0.0.1', port: g.gw.app.ingest.gbt32960Port!, vin: car().vin });
    const incoming = t.nextCommand();
    expect((await t.login()).flag).toBe(FLAG.success);
    const f = await incoming;
    expect([f.command, f.data.subarray(6).toString('hex')]).toEqual([CMD.set, '010928']);
    t.answerCommand(f, FLAG.success);
    await until(async () => (await status(r.body.id)).body.status === 'done', 5_000, 'the answer after login');
  });

  it("remote shutdown restricts the car: blocked without the owner's approval, sent as 0x82/0x02 with it", async () => {
    const blocked = await send({ type: 'remote-shutdown' });
    expect(blocked.status).toBe(403);
    expect(await leaves(blocked.body.command.id)).toEqual([['requested', 'blocked']]);
    const token = (await g.gw.app.store.createOwnerToken({ ownerRef: 'owner-1', vins: [car().vin], now: Date.now() }))
      .token;
    const approval = await g.call(
      'POST',
      `/owner/v1/vehicles/${car().vin}/command-approvals`,
      g.key('owner-app'),
      { type: 'remote-shutdown' },
      { [OWNER_TOKEN_HEADER]: token },
    );
    expect(approval.status).toBe(201);
    const incoming = t.nextCommand();
    const r = await send({ type: 'remote-shutdown' });
    expect(r.status).toBe(202);
    const f = await incoming;
    expect([f.command, f.data.subarray(6).toString('hex')]).toEqual([CMD.control, '02']);
    t.answerCommand(f, FLAG.success);
    await until(async () => (await status(r.body.id)).body.status === 'done', 5_000, 'the shutdown answer');
  });
});
