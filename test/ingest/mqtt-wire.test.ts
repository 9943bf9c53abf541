/**
 * The car endpoint at the byte level, over real sockets, in MQTT 3.1.1 and 5.0: exactly-once
 * QoS 2, packet id 0, every CONNECT refusal as a CONNACK with its code, a pipelined burst, and
 * the per-vehicle rate across reconnects.
 */
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IConnackPacket, IDisconnectPacket, IPubackPacket } from 'mqtt-packet';
import { telemetryTopic } from '../../src/ingest/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { connackCode, connectPacket, RawCar, type Version } from '../helpers/raw-mqtt.js';

const reading = (speed: number) => JSON.stringify({ speed });
const records = async (gw: TestGateway) => (await gw.app.store.counts()).records;

describe.each([4, 5] as Version[])('mqtt wire, protocol level %i', (version) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ cars: 3, config: { limits: { messageBurst: 1000, messagesPerSecond: 1000 } } });
  });
  afterAll(async () => gw?.stop());
  const open = () => RawCar.open(gw.app.mqttPort!, version);

  describe('exactly-once QoS 2', () => {
    it('stores a PUBLISH sent again with DUP before PUBREL once, and answers each with PUBREC', async () => {
      const car = gw.cars[0]!;
      const c = await open();
      expect(connackCode(await c.connect(car))).toBe(0);
      const before = await records(gw);
      c.send(c.publish(telemetryTopic(car.vin), reading(77), 2, 7));
      expect(await c.next()).toMatchObject({ cmd: 'pubrec', messageId: 7 });
      c.send(c.publish(telemetryTopic(car.vin), reading(77), 2, 7, true));
      expect(await c.next()).toMatchObject({ cmd: 'pubrec', messageId: 7 });
      c.send({ cmd: 'pubrel', messageId: 7 });
      expect(await c.next()).toMatchObject({ cmd: 'pubcomp', messageId: 7 });
      expect(await records(gw)).toBe(before + 1);
      // After PUBCOMP the id is free again: a new message with it is a new record.
      c.send(c.publish(telemetryTopic(car.vin), reading(78), 2, 7));
      expect(await c.next()).toMatchObject({ cmd: 'pubrec', messageId: 7 });
      expect(await records(gw)).toBe(before + 2);
      c.end();
    });

    it('stores a duplicate sent after a reconnect with a persistent session once', async () => {
      const car = gw.cars[1]!;
      const persistent = version === 5 ? { clean: false, properties: { sessionExpiryInterval: 60 } } : { clean: false };
      const a = await open();
      expect(connackCode(await a.connect(car, persistent))).toBe(0);
      const before = await records(gw);
      a.send(a.publish(telemetryTopic(car.vin), reading(90), 2, 9));
      expect(await a.next()).toMatchObject({ cmd: 'pubrec', messageId: 9 });
      a.end(); // the PUBREC was "lost": the car resends the PUBLISH with DUP
      await a.closed;
      const b = await open();
      const connack = await b.connect(car, persistent);
      expect(connack).toMatchObject({ sessionPresent: true });
      b.send(b.publish(telemetryTopic(car.vin), reading(90), 2, 9, true));
      expect(await b.next()).toMatchObject({ cmd: 'pubrec', messageId: 9 });
      b.send({ cmd: 'pubrel', messageId: 9 });
      expect(await b.next()).toMatchObject({ cmd: 'pubcomp', messageId: 9 });
      expect(await records(gw)).toBe(before + 1);
      b.end();
    });

    it('refuses packet id 0 on a QoS 1 or 2 PUBLISH, and stores nothing of it', async () => {
      const car = gw.cars[0]!;
      for (const qos of [1, 2] as const) {
        const c = await open();
        await c.connect(car);
        const before = await records(gw);
        // mqtt-packet will not write id 0: patch the two id bytes after the topic.
        const bytes = Buffer.from(
          (await import('mqtt-packet')).default.generate(c.publish(telemetryTopic(car.vin), reading(1), qos, 1), {
            protocolVersion: version,
          }),
        );
        const idAt = 2 + 2 + telemetryTopic(car.vin).length;
        bytes.writeUInt16BE(0, idAt);
        c.send(bytes);
        const answer = await c.next();
        if (version === 5) expect(answer).toMatchObject({ cmd: 'disconnect', reasonCode: 0x82 });
        else expect(answer).toBeUndefined();
        await c.closed;
        expect(await records(gw)).toBe(before);
      }
    });
  });

  it('handles 60 PUBLISHes pipelined right behind the CONNECT: CONNACK, then every PUBACK in order', async () => {
    const car = gw.cars[2]!;
    const c = await open();
    const before = await records(gw);
    const n = 60;
    c.send(
      connectPacket(car, version),
      ...Array.from({ length: n }, (_, i) => c.publish(telemetryTopic(car.vin), reading(i), 1, i + 1)),
    );
    expect(await c.next()).toMatchObject({ cmd: 'connack' });
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(((await c.next()) as IPubackPacket).messageId!);
    expect(ids).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(await records(gw)).toBe(before + n);
    c.end();
  });

  it('writes the PUBACKs of PUBLISHes read together in one socket write, in order', async () => {
    const car = gw.cars[2]!;
    const c = await open();
    expect(connackCode(await c.connect(car))).toBe(0);
    const n = 20;
    // The gateway's side of this car's connection: every write it makes, counted.
    const ours = (s: Socket) => s.localPort === gw.app.mqttPort && s.remotePort === c.socket.localPort;
    const writes: number[] = [];
    const original = Socket.prototype.write;
    const write = vi.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, ...args) {
      if (ours(this)) writes.push((args[0] as Buffer).length);
      return (original as (...a: unknown[]) => boolean).apply(this, args);
    });
    try {
      c.send(...Array.from({ length: n }, (_, i) => c.publish(telemetryTopic(car.vin), reading(i), 1, 100 + i)));
      const ids: number[] = [];
      for (let i = 0; i < n; i++) ids.push(((await c.next()) as IPubackPacket).messageId!);
      expect(ids).toEqual(Array.from({ length: n }, (_, i) => 100 + i));
    } finally {
      write.mockRestore();
    }
    expect(writes).toEqual([4 * n]);
    c.end();
  });

  describe('every CONNECT refusal is a CONNACK with its code', () => {
    const code = (v4: number, v5: number) => (version === 5 ? v5 : v4);

    it('a wrong secret or an unknown VIN: bad user name or password', async () => {
      const car = gw.cars[0]!;
      for (const creds of [
        { vin: car.vin, secret: 'not-the-secret-at-all-xxxxxx' },
        { vin: 'LZZZZ000000000001', secret: 'whatever-secret-of-24-chars' },
      ]) {
        const c = await open();
        const ack = await c.connect(creds);
        expect(connackCode(ack)).toBe(code(0x04, 0x86));
        if (version === 5) expect(ack!.properties?.reasonString).toBeTruthy();
        await c.closed;
      }
    });

    it('a client id other than the VIN: identifier rejected', async () => {
      const c = await open();
      expect(connackCode(await c.connect(gw.cars[0]!, { clientId: gw.cars[1]!.vin }))).toBe(code(0x02, 0x85));
    });

    it('a will message', async () => {
      const car = gw.cars[0]!;
      const c = await open();
      const ack = await c.connect(car, { will: { topic: telemetryTopic(car.vin), payload: Buffer.from('{}') } });
      expect(connackCode(ack)).toBe(code(0x05, 0x83));
      expect(gw.app.ingest.counters.rejected['will-not-allowed']).toBeGreaterThan(0);
    });

    it('a keepalive out of bounds: refused in 3.1.1, set by Server Keep Alive in 5.0', async () => {
      const c = await open();
      const ack = await c.connect(gw.cars[0]!, { keepalive: 0 });
      if (version === 5) {
        expect(ack).toMatchObject({ reasonCode: 0, properties: { serverKeepAlive: 5 } });
        c.end();
      } else expect(connackCode(ack)).toBe(0x05);
    });

    it('a protocol level this listener does not take: the MQTT 5 CONNACK 0x84', async () => {
      const c = await RawCar.open(gw.app.mqttPort!, 5);
      // CONNECT, protocol "MQTT" level 6, clean start, keepalive 30, no properties, client id "x".
      c.send(
        Buffer.from([0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x1e, 0x00, 0x00, 0x01, 0x78]),
      );
      const ack = (await c.next()) as IConnackPacket;
      expect(ack).toMatchObject({ cmd: 'connack', reasonCode: 0x84 });
      await c.closed;
    });

    it("refuses another car's topic with PUBACK 0x87 and a reason in 5.0 (the car stays); 3.1.1 closes", async () => {
      const c = await open();
      await c.connect(gw.cars[0]!);
      c.send(c.publish(telemetryTopic(gw.cars[1]!.vin), reading(1), 1, 3));
      const answer = await c.next();
      if (version === 5) {
        expect(answer).toMatchObject({ cmd: 'puback', messageId: 3, reasonCode: 0x87 });
        expect((answer as IPubackPacket).properties?.reasonString).toBeTruthy();
        c.send({ cmd: 'pingreq' });
        expect(await c.next()).toMatchObject({ cmd: 'pingresp' });
        c.end();
      } else expect(answer).toBeUndefined();
    });
  });
});

describe('the per-vehicle rate', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ cars: 1, config: { limits: { messagesPerSecond: 0.5, messageBurst: 5 } } });
  });
  afterAll(async () => gw?.stop());

  it('keeps the per-vehicle rate across reconnects', async () => {
    const car = gw.cars[0]!;
    const before = await records(gw);
    let acked = 0;
    for (let round = 0; round < 3; round++) {
      const c = await RawCar.open(gw.app.mqttPort!, 4);
      if (connackCode(await c.connect(car)) !== 0) break;
      c.send(...Array.from({ length: 5 }, (_, i) => c.publish(telemetryTopic(car.vin), reading(i), 1, i + 1)));
      for (;;) {
        const p = await c.next();
        if (!p) break;
        acked += 1;
        if (acked % 5 === 0) break;
      }
      c.end();
      await c.closed;
    }
    // 5 in the burst, at most a token or two refilled at 0.5/s while the test runs: never 15.
    expect(acked).toBeLessThanOrEqual(7);
    expect((await records(gw)) - before).toBeLessThanOrEqual(7);
    expect(gw.app.ingest.counters.rejected['rate-limit-exceeded']).toBeGreaterThan(0);
  });
});

describe('mqtt limits after authentication', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ cars: 3, config: { limits: { connectsPerVehiclePerMinute: 4 } } });
  });
  afterAll(async () => gw?.stop());

  it('advertises its limits in the MQTT 5 CONNACK', async () => {
    const c = await RawCar.open(gw.app.mqttPort!, 5);
    const ack = await c.connect(gw.cars[0]!);
    expect(ack!.properties).toMatchObject({
      receiveMaximum: 100,
      maximumPacketSize: 65_536,
      topicAliasMaximum: 4,
      wildcardSubscriptionAvailable: false,
      sharedSubscriptionAvailable: false,
    });
    c.end();
  });

  it.each([4, 5] as Version[])(
    'answers a vehicle over its connects per minute "quota exceeded" (level %i)',
    async (v) => {
      const car = gw.cars[1 + (v - 4)]!;
      const codes: (number | undefined)[] = [];
      for (let i = 0; i < 5; i++) {
        const c = await RawCar.open(gw.app.mqttPort!, v);
        codes.push(connackCode(await c.connect(car)));
        c.end();
        await c.closed;
      }
      expect(codes.slice(0, 4)).toEqual([0, 0, 0, 0]);
      expect(codes[4]).toBe(v === 5 ? 0x97 : 0x03);
    },
  );
});

describe('mqtt limits before authentication', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 1,
      config: { limits: { maxConnections: 2, connectionBurstPerAddress: 1000 } },
    });
  });
  afterAll(async () => gw?.stop());

  it.each([4, 5] as Version[])('answers a CONNECT over maxConnections "server busy" (level %i)', async (v) => {
    const held = [await RawCar.open(gw.app.mqttPort!, 4), await RawCar.open(gw.app.mqttPort!, 4)];
    const c = await RawCar.open(gw.app.mqttPort!, v);
    const ack = await c.connect(gw.cars[0]!);
    expect(connackCode(ack)).toBe(v === 5 ? 0x89 : 0x03);
    for (const h of held) h.end();
    await Promise.all(held.map((h) => h.closed));
  });

  it('closes a socket whose first packet declares more than maxConnectBytes, on the header alone', async () => {
    const c = await RawCar.open(gw.app.mqttPort!, 5);
    // A CONNECT declaring about 64 KB: over maxConnectBytes, cut on its header.
    c.send(Buffer.from([0x10, 0xfa, 0xff, 0x03, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0xc2, 0x00, 0x3c]));
    expect((await c.next()) as IDisconnectPacket | undefined).toBeUndefined();
    expect(gw.app.ingest.counters.rejected['connect-too-large']).toBe(1);
  });
});
