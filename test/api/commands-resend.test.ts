/**
 * Every path that puts a command on the wire goes through the send-time check, including the
 * two where the embedded MQTT server sends from the car's session rather than from the queue:
 * the unacknowledged commands re-sent when a car resumes its session [MQTT-4.4.0-1] (3.1.1
 * Clean Session 0, MQTT 5 Session Expiry Interval), and the commands held back under the car's
 * MQTT 5 Receive Maximum, released when a PUBACK frees room. A command the owner's revocation
 * stopped after it was first sent does not reach the car again: it ends `blocked` ("at send time:
 * …") with a 'stopped' leaf after its 'sent' one.
 *
 * And a revocation stops the vehicle's queued commands at once: the command status API shows
 * them blocked as soon as the owner API answered, whether the car is online or not.
 *
 * Real parts: the OEM and the owner app over HTTP, each car a byte-level MQTT client over TCP
 * (test/helpers/raw-mqtt.ts) that acknowledges only what the test says. What a car never
 * received again is proven by order: a sentinel asked for after the stop is the next packet.
 */
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandTopic } from '../../src/ingest/index.js';
import { RawCar, type Version } from '../helpers/raw-mqtt.js';
import { until } from './oem-helpers.js';
import { commandCalls, startCommandWorld, type CommandWorld } from './command-helpers.js';

const SENT_STOPPED =
  /^at send time: consent revoked: the owner's consent to "battery-research" for oem-a is no longer in force/;

describe('a sent, unacknowledged command is checked again before it goes again', () => {
  let w: CommandWorld;
  const calls = commandCalls(() => w);
  const { car, send, owner, grant, revoke } = calls;
  const status = async (i: number, id: string) => (await calls.status(i, id)).body;
  const trail = async (id: string) => (await calls.leaves(id)).map((l) => [l.action, l.outcome]);
  const sentinel = (i: number) => send(i, { type: 'climate-on', params: { temperatureC: 21 } });

  /** A car that connects, subscribes to its command topic at QoS 1 and acknowledges nothing unless told. */
  const online = async (i: number, version: Version, connect: Record<string, unknown>) => {
    const c = await RawCar.open(w.g.gw.app.mqttPort!, version);
    const ack = await c.connect(car(i), connect);
    expect(ack?.returnCode ?? ack?.reasonCode).toBe(0);
    return { c, sessionPresent: ack!.sessionPresent };
  };
  const subscribe = async (c: RawCar, i: number) => {
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: commandTopic(car(i).vin), qos: 1 }] });
    expect((await c.next())?.cmd).toBe('suback');
    await until(() => w.g.gw.app.ingest.isCommandSubscriber(car(i).vin), 5_000, 'the subscription');
  };
  /** The next PUBLISH the car gets (PINGRESPs and the like skipped), with its command id. */
  const nextCommand = async (c: RawCar) => {
    for (;;) {
      const p: Packet | undefined = await c.next();
      if (!p) throw new Error('the gateway closed the connection');
      if (p.cmd === 'publish') return { p, id: JSON.parse(p.payload.toString()).id as string };
    }
  };
  const away = async (c: RawCar, i: number) => {
    c.end();
    await until(() => !w.g.gw.app.ingest.isCommandSubscriber(car(i).vin), 5_000, 'the car gone');
  };

  beforeAll(async () => {
    w = await startCommandWorld(7);
  }, 30_000);
  afterAll(async () => w?.g.stop());

  /** The car's protocol, its first CONNECT's options and those it resumes its session with. */
  type SessionSpec = [Version, Record<string, unknown>, Record<string, unknown>];
  const V311: SessionSpec = [4, { clean: false }, { clean: false }];
  const V5: SessionSpec = [
    5,
    { clean: true, properties: { sessionExpiryInterval: 600 } },
    { clean: false, properties: { sessionExpiryInterval: 600 } },
  ];
  const resumed: [string, SessionSpec][] = [
    ['MQTT 3.1.1, Clean Session 0', V311],
    ['MQTT 5, Session Expiry Interval', V5],
  ];

  /**
   * Command `type` goes to car `i` and stays unacknowledged; the car goes away, `withdraw` runs,
   * the car resumes its session. Proves the command was not re-sent (a sentinel is the next
   * PUBLISH) and was stopped after its 'sent' leaf; returns its reason.
   */
  const resumeAfter = async (
    i: number,
    [version, first, again]: SessionSpec,
    type: string,
    withdraw: () => Promise<void>,
  ) => {
    const { c } = await online(i, version, first);
    await subscribe(c, i);
    const r = await send(i, { type, ttlSeconds: 300 });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('sent');
    expect((await nextCommand(c)).id).toBe(r.body.id); // on the wire, not acknowledged: it stays in the session
    await away(c, i);
    await withdraw();
    expect((await status(i, r.body.id)).status).toBe('sent'); // a revocation does not rewrite what was sent

    const back = await online(i, version, again);
    expect(back.sessionPresent).toBe(true);
    await until(async () => (await status(i, r.body.id)).status === 'blocked', 5_000, 'the stop');
    const s = await sentinel(i);
    expect(s.body.status).toBe('sent');
    const next = await nextCommand(back.c);
    expect(next.id).toBe(s.body.id); // the stopped command was not re-sent first
    expect((next.p as IPublishPacket).dup).toBe(false);
    const row = await status(i, r.body.id);
    expect(row.sentAt).not.toBeNull();
    expect(await trail(r.body.id)).toEqual([
      ['requested', 'allowed'],
      ['sent', 'sent'],
      ['stopped', 'blocked'],
    ]);
    back.c.end();
    return row.reason as string;
  };

  for (const [i, [name, session]] of resumed.entries()) {
    it(`${name}: not re-sent on reconnect once the owner revoked the consent`, async () => {
      await grant(i);
      expect(await resumeAfter(i, session, 'battery-check', () => revoke(i))).toMatch(SENT_STOPPED);
    });
  }

  it('a command stopped after it was sent still counts toward its per-vehicle hourly limit', async () => {
    const i = 6;
    await grant(i);
    expect(await resumeAfter(i, V311, 'battery-report', () => revoke(i))).toMatch(SENT_STOPPED);
    await grant(i);
    // It may have reached the car before the stop: the once-an-hour limit is spent.
    const again = await send(i, { type: 'battery-report' });
    expect(again.status).toBe(429);
    expect(again.body.message).toBe('at most 1 "battery-report" commands per vehicle per hour');
  });

  it('D1: a sent restricting command is not re-sent once the owner withdrew the approval', async () => {
    const i = 5;
    expect((await owner('POST', `${car(i).vin}/command-approvals`, { type: 'immobilize' })).status).toBe(201);
    const withdraw = async () =>
      expect((await owner('DELETE', `${car(i).vin}/command-approvals/immobilize`)).body.revoked).toBe(true);
    expect(await resumeAfter(i, V311, 'immobilize', withdraw)).toMatch(
      /^at send time: "immobilize" restricts the car: its owner's approval for oem-a was withdrawn/,
    );
  });

  it('MQTT 3.1.1, Clean Session 0: a command still allowed is re-sent on reconnect, with DUP', async () => {
    const i = 2;
    const { c } = await online(i, 4, { clean: false });
    await subscribe(c, i);
    const r = await sentinel(i);
    const first = await nextCommand(c);
    expect(first.id).toBe(r.body.id);
    await away(c, i);
    const back = await online(i, 4, { clean: false });
    const again = await nextCommand(back.c);
    expect(again.id).toBe(r.body.id);
    expect((again.p as IPublishPacket).dup).toBe(true);
    expect(again.p.messageId).toBe(first.p.messageId);
    back.c.send({ cmd: 'puback', messageId: again.p.messageId! });
    back.c.end();
  });

  it('MQTT 5 Receive Maximum: a held command is not released by a PUBACK once the consent was revoked', async () => {
    const i = 3;
    await grant(i);
    const { c } = await online(i, 5, { properties: { receiveMaximum: 1 } });
    await subscribe(c, i);
    const first = await sentinel(i);
    const inFlight = await nextCommand(c);
    expect(inFlight.id).toBe(first.body.id);
    // The car's one slot is taken: this one is sent by the downlink but held in the session.
    const held = await send(i, { type: 'battery-check', ttlSeconds: 300 });
    expect(held.body.status).toBe('sent');
    await revoke(i);
    c.send({ cmd: 'puback', messageId: inFlight.p.messageId! });
    await until(async () => (await status(i, held.body.id)).status === 'blocked', 5_000, 'the stop');
    const after = await sentinel(i);
    const next = await nextCommand(c);
    expect(next.id).toBe(after.body.id); // the held command never went
    expect((await status(i, held.body.id)).reason).toMatch(SENT_STOPPED);
    expect(await trail(held.body.id)).toEqual([
      ['requested', 'allowed'],
      ['sent', 'sent'],
      ['stopped', 'blocked'],
    ]);
    c.end();
  });

  it('MQTT 5 Receive Maximum: a held command still allowed goes when a PUBACK frees the slot', async () => {
    const i = 4;
    const { c } = await online(i, 5, { properties: { receiveMaximum: 1 } });
    await subscribe(c, i);
    const a = await sentinel(i);
    const first = await nextCommand(c);
    expect(first.id).toBe(a.body.id);
    const b = await sentinel(i);
    expect(b.body.status).toBe('sent');
    c.send({ cmd: 'puback', messageId: first.p.messageId! });
    expect((await nextCommand(c)).id).toBe(b.body.id);
    c.end();
  });
});

describe("an owner's revocation stops the vehicle's queued commands at once", () => {
  let w: CommandWorld;
  const calls = commandCalls(() => w);
  const { car, send, owner } = calls;
  const status = async (i: number, id: string) => (await calls.status(i, id)).body;
  const trail = async (id: string) => (await calls.leaves(id)).map((l) => [l.action, l.outcome]);

  beforeAll(async () => {
    w = await startCommandWorld(2);
  }, 30_000);
  afterAll(async () => w?.g.stop());

  it('a consent revoked: queued commands serving its purpose are blocked when the answer comes, the rest wait', async () => {
    expect((await owner('POST', `${car(0).vin}/consents`, { purpose: 'battery-research' })).status).toBe(201);
    const a = await send(0, { type: 'battery-check', ttlSeconds: 300 });
    const b = await send(0, { type: 'battery-check', ttlSeconds: 300 });
    const other = await send(0, { type: 'climate-on', params: { temperatureC: 20 }, ttlSeconds: 300 });
    for (const r of [a, b, other]) expect(r.body.status).toBe('queued'); // the car is offline
    expect((await owner('DELETE', `${car(0).vin}/consents/battery-research`)).status).toBe(200);
    // No waiting: what the status API says right after the owner API answered.
    for (const r of [a, b]) {
      const s = await status(0, r.body.id);
      expect(s).toMatchObject({ status: 'blocked', sentAt: null });
      expect(s.reason).toMatch(
        /^on revocation: consent revoked: the owner's consent to "battery-research" for oem-a is no longer in force/,
      );
      expect(await trail(r.body.id)).toEqual([
        ['requested', 'allowed'],
        ['stopped', 'blocked'],
      ]);
    }
    expect((await status(0, other.body.id)).status).toBe('queued');
  });

  it('D1: an approval withdrawn: a queued restricting command is blocked when the answer comes', async () => {
    expect((await owner('POST', `${car(1).vin}/command-approvals`, { type: 'immobilize' })).status).toBe(201);
    const r = await send(1, { type: 'immobilize', ttlSeconds: 300 });
    expect(r.body.status).toBe('queued');
    expect((await owner('DELETE', `${car(1).vin}/command-approvals/immobilize`)).body.revoked).toBe(true);
    const s = await status(1, r.body.id);
    expect(s).toMatchObject({ status: 'blocked', sentAt: null });
    expect(s.reason).toMatch(
      /^on revocation: "immobilize" restricts the car: its owner's approval for oem-a was withdrawn/,
    );
    expect(await trail(r.body.id)).toEqual([
      ['requested', 'allowed'],
      ['stopped', 'blocked'],
    ]);
  });
});
