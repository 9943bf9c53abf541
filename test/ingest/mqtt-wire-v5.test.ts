/**
 * The MQTT 5 refusals a car meets after it is in, and the ones before it is in that
 * mqtt-wire.test.ts does not cover, at the byte level over real sockets: what the car reads
 * (packet, reason code, reason string) and what was stored. Receive Maximum (0x93), topic
 * aliases (0x94), Maximum Packet Size (0x95), the per-address connection rate (3 / 0x9F),
 * enhanced authentication (0x8C), the store unreachable (3 / 0x88), a session taken over
 * (0x8E), the SUBACK's reason string, an MQTT 5 car on the MQTTS listener, and the per-vehicle
 * message rate across reconnects (PUBACK 0x97, QoS 0 DISCONNECT 0x96).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqttPacket, {
  type IDisconnectPacket,
  type IPubackPacket,
  type IPublishPacket,
  type ISubackPacket,
} from 'mqtt-packet';
import pg from 'pg';
import { commandTopic, telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createTestPki, mqttsOn, type TestPki } from '../helpers/pki.js';
import { connackCode, RawCar, type Version } from '../helpers/raw-mqtt.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const reading = (speed: number) => JSON.stringify({ speed });
const records = async (gw: TestGateway) => (await gw.app.store.counts()).records;

/** PUBLISH QoS 1 from `car` and wait for its PUBACK: every record accepted before it is committed. */
async function barrier(gw: TestGateway, car: { vin: string; secret: string }): Promise<void> {
  const c = await RawCar.open(gw.app.mqttPort!, 5);
  expect(connackCode(await c.connect(car))).toBe(0);
  c.send(c.publish(telemetryTopic(car.vin), reading(0), 1, 1));
  expect(await c.next()).toMatchObject({ cmd: 'puback', messageId: 1, reasonCode: 0 });
  c.end();
}

describe('mqtt 5 wire, after CONNECT', () => {
  let gw: TestGateway;
  let pki: TestPki;
  beforeAll(async () => {
    pki = createTestPki();
    gw = await startTestGateway({
      cars: 7,
      config: {
        mqtt: mqttsOn(pki),
        limits: { receiveMaximum: 3, maxPacketBytes: 2048, messagesPerSecond: 1000, messageBurst: 1000 },
      },
    });
  });
  afterAll(async () => gw?.stop());
  const open = (v: Version = 5) => RawCar.open(gw.app.mqttPort!, v);

  it('disconnects 0x93 on a QoS 1 PUBLISH beyond its Receive Maximum, and acknowledges none', async () => {
    const car = gw.cars[0]!;
    const c = await open();
    expect((await c.connect(car))!.properties).toMatchObject({ receiveMaximum: 3 });
    const before = await records(gw);
    // Four in one write: all four are read while the first three are still being committed.
    c.send(...[1, 2, 3, 4].map((id) => c.publish(telemetryTopic(car.vin), reading(id), 1, id)));
    expect(await c.next()).toMatchObject({
      cmd: 'disconnect',
      reasonCode: 0x93,
      properties: { reasonString: 'receive maximum exceeded' },
    });
    expect(await c.next()).toBeUndefined();
    await barrier(gw, gw.cars[6]!);
    // The three within the window were committed (unacknowledged: the car sends them again);
    // the fourth was not, and the barrier is the one more.
    expect(await records(gw)).toBe(before + 3 + 1);
  });

  it.each([0, 5])(
    'disconnects 0x94 on topic alias %i (0, or above the maximum of 4) and stores nothing',
    async (alias) => {
      const car = gw.cars[1]!;
      const c = await open();
      expect((await c.connect(car))!.properties).toMatchObject({ topicAliasMaximum: 4 });
      const before = await records(gw);
      c.send({
        ...(c.publish(telemetryTopic(car.vin), reading(1), 1, 1) as IPublishPacket),
        properties: { topicAlias: alias },
      });
      expect(await c.next()).toMatchObject({
        cmd: 'disconnect',
        reasonCode: 0x94,
        properties: { reasonString: 'topic alias out of range' },
      });
      expect(await c.next()).toBeUndefined();
      await barrier(gw, gw.cars[6]!);
      expect(await records(gw)).toBe(before + 1);
    },
  );

  it('takes a PUBLISH of exactly the advertised Maximum Packet Size, disconnects 0x95 on one byte more', async () => {
    const car = gw.cars[2]!;
    const c = await open();
    expect((await c.connect(car))!.properties).toMatchObject({ maximumPacketSize: 2048 });
    const before = await records(gw);
    // JSON padded with trailing blanks to a PUBLISH of `size` bytes in all (fixed header included).
    const sized = (size: number, id: number) => {
      const p = c.publish(telemetryTopic(car.vin), reading(id), 1, id);
      const base = mqttPacket.generate(p, { protocolVersion: 5 }).length;
      const pad = size - base - 1; // the remaining length takes one byte more above 127
      const q = { ...p, payload: Buffer.from(reading(id) + ' '.repeat(pad)) };
      expect(mqttPacket.generate(q, { protocolVersion: 5 }).length).toBe(size);
      return q;
    };
    c.send(sized(2048, 1));
    expect(await c.next()).toMatchObject({ cmd: 'puback', messageId: 1, reasonCode: 0 });
    c.send(sized(2049, 2));
    expect(await c.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x95 });
    expect(await c.next()).toBeUndefined();
    await barrier(gw, gw.cars[6]!);
    expect(await records(gw)).toBe(before + 1 + 1);
  });

  it('refuses an Authentication Method with CONNACK 0x8C and a reason string', async () => {
    const c = await open();
    const ack = await c.connect(gw.cars[0]!, { properties: { authenticationMethod: 'SCRAM-SHA-256' } });
    expect(ack).toMatchObject({
      reasonCode: 0x8c,
      sessionPresent: false,
      properties: { reasonString: 'no enhanced authentication: send the VIN and secret' },
    });
    await c.closed;
  });

  it('tells the connection a second CONNECT took its session over: DISCONNECT 0x8E', async () => {
    const car = gw.cars[3]!;
    const a = await open();
    expect(connackCode(await a.connect(car))).toBe(0);
    const b = await open();
    expect(connackCode(await b.connect(car))).toBe(0);
    expect(await a.next()).toMatchObject({
      cmd: 'disconnect',
      reasonCode: 0x8e,
      properties: { reasonString: 'another connection took this session over' },
    });
    await a.closed;
    // The new connection is the car's now.
    b.send(b.publish(telemetryTopic(car.vin), reading(1), 1, 1));
    expect(await b.next()).toMatchObject({ cmd: 'puback', messageId: 1, reasonCode: 0 });
    b.end();
  });

  it('refuses each filter but its own command topic in the SUBACK with its code and a reason string; the car stays', async () => {
    const car = gw.cars[4]!;
    const subscribe = {
      cmd: 'subscribe' as const,
      messageId: 5,
      subscriptions: [
        { topic: commandTopic(car.vin), qos: 1 as const },
        { topic: commandTopic(gw.cars[0]!.vin), qos: 1 as const },
        { topic: 'vehicles/+/commands', qos: 1 as const },
        { topic: `$share/g/${commandTopic(car.vin)}`, qos: 1 as const },
      ],
    };
    const c = await open();
    await c.connect(car);
    c.send(subscribe);
    const suback = (await c.next()) as ISubackPacket;
    expect(suback).toMatchObject({ cmd: 'suback', messageId: 5, granted: [1, 0x87, 0xa2, 0x9e] });
    expect(suback.properties?.reasonString).toBe('a car subscribes only to its own command topic');
    c.send({ cmd: 'pingreq' });
    expect(await c.next()).toMatchObject({ cmd: 'pingresp' });
    c.end();
    // Request Problem Information 0 (§3.1.2.11.7): the same codes, no words.
    const quiet = await open();
    await quiet.connect(car, { properties: { requestProblemInformation: false } });
    quiet.send(subscribe);
    const bare = (await quiet.next()) as ISubackPacket;
    expect(bare).toMatchObject({ granted: [1, 0x87, 0xa2, 0x9e] });
    expect(bare.properties?.reasonString).toBeUndefined();
    quiet.end();
  });

  describe('on the MQTTS listener', () => {
    const tlsCar = async (cert?: { cert: string; key: string }) =>
      RawCar.openTls(gw.app.mqttsPort!, 5, {
        ca: readFileSync(pki.caFile),
        ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}),
      });
    const noSecret = { username: undefined, password: undefined };

    it('lets an MQTT 5 car in on its certificate, advertises the limits, acknowledges and stores', async () => {
      const car = gw.cars[5]!;
      const c = await tlsCar(pki.vehicle(car.vin));
      const ack = await c.connect(car, noSecret);
      expect(ack).toMatchObject({ reasonCode: 0, properties: { receiveMaximum: 3, maximumPacketSize: 2048 } });
      const before = await records(gw);
      c.send(c.publish(telemetryTopic(car.vin), reading(5), 1, 1));
      expect(await c.next()).toMatchObject({ cmd: 'puback', messageId: 1, reasonCode: 0 });
      expect(await records(gw)).toBe(before + 1);
      c.end();
    });

    it('refuses a valid certificate of an unregistered VIN with CONNACK 0x87 and a reason string', async () => {
      const vin = 'LTESTNOTREGISTER1';
      const c = await tlsCar(pki.vehicle(vin));
      const ack = await c.connect({ vin, secret: 'unused' }, noSecret);
      expect(ack).toMatchObject({ reasonCode: 0x87, properties: { reasonString: 'not authorized' } });
      await c.closed;
    });
  });
});

describe('mqtt wire: the per-address connection rate', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 1,
      config: { limits: { connectionsPerAddressPerSecond: 0.01, connectionBurstPerAddress: 2 } },
    });
  });
  afterAll(async () => gw?.stop());

  it('answers the connection over the burst CONNACK 3 in 3.1.1 and 0x9F with a reason in 5.0', async () => {
    const car = gw.cars[0]!;
    for (const v of [4, 5] as Version[]) {
      const c = await RawCar.open(gw.app.mqttPort!, v);
      expect(connackCode(await c.connect(car))).toBe(0);
      c.end();
      await c.closed;
    }
    const v4 = await RawCar.open(gw.app.mqttPort!, 4);
    expect(await v4.connect(car)).toMatchObject({ cmd: 'connack', returnCode: 3, sessionPresent: false });
    await v4.closed;
    const v5 = await RawCar.open(gw.app.mqttPort!, 5);
    expect(await v5.connect(car)).toMatchObject({
      cmd: 'connack',
      reasonCode: 0x9f,
      properties: { reasonString: 'too many connections from this address' },
    });
    await v5.closed;
    expect(gw.app.ingest.counters.rejected['connection-rate-exceeded']).toBe(2);
  });
});

describe('mqtt wire: the per-vehicle message rate across reconnects, MQTT 5', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ cars: 1, config: { limits: { messagesPerSecond: 0.5, messageBurst: 5 } } });
  });
  afterAll(async () => gw?.stop());

  it('refuses what is over the rate with PUBACK 0x97 and a reason, whatever the connection; QoS 0 gets DISCONNECT 0x96', async () => {
    const car = gw.cars[0]!;
    const before = await records(gw);
    const codes: number[] = [];
    for (let round = 0; round < 3; round++) {
      const c = await RawCar.open(gw.app.mqttPort!, 5);
      expect(connackCode(await c.connect(car))).toBe(0);
      c.send(...[1, 2, 3, 4, 5].map((id) => c.publish(telemetryTopic(car.vin), reading(id), 1, id)));
      for (let i = 0; i < 5; i++) {
        const ack = (await c.next()) as IPubackPacket;
        expect(ack).toMatchObject({ cmd: 'puback', messageId: i + 1 });
        codes.push(ack.reasonCode ?? 0);
        if (ack.reasonCode) expect(ack.properties?.reasonString).toBe('over the vehicle message rate');
      }
      c.end();
      await c.closed;
    }
    const accepted = codes.filter((rc) => rc === 0).length;
    // The burst of 5, plus at most a token or two refilled at 0.5/s while the test runs: never 15.
    expect(accepted).toBeLessThanOrEqual(7);
    expect(codes.filter((rc) => rc === 0x97).length).toBe(15 - accepted);
    expect(await records(gw)).toBe(before + accepted);
    // QoS 0 has no acknowledgement to refuse in: the car is disconnected "message rate too high".
    const c = await RawCar.open(gw.app.mqttPort!, 5);
    expect(connackCode(await c.connect(car))).toBe(0);
    c.send(...[1, 2, 3].map((i) => c.publish(telemetryTopic(car.vin), reading(i), 0)));
    expect((await c.next()) as IDisconnectPacket).toMatchObject({
      cmd: 'disconnect',
      reasonCode: 0x96,
      properties: { reasonString: 'over the vehicle message rate' },
    });
    await c.closed;
  });
});

describe('mqtt wire: the store out of reach', () => {
  // The gateway reaches the machine's PostgreSQL through a proxy this test can take down: the
  // vehicle look-up of a CONNECT fails the way it does when the database is gone.
  const schema = `shk_test_wirev5_${randomBytes(6).toString('hex')}`;
  let proxy: TcpProxy;
  let gw: TestGateway;
  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    gw = await startTestGateway({
      cars: 1,
      config: {
        store: { kind: 'postgres', url: `postgres://postgres@127.0.0.1:${proxy.port}/test`, schema, poolSize: 2 },
      },
    });
  });
  afterAll(async () => {
    proxy?.up();
    await gw?.stop();
    await proxy?.close();
    const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });

  it('answers CONNECT "server unavailable" (3 / 0x88 with a reason) while it is down, and lets the car in once it is back', async () => {
    const car = gw.cars[0]!;
    proxy.down();
    const v4 = await RawCar.open(gw.app.mqttPort!, 4);
    expect(await v4.connect(car)).toMatchObject({ cmd: 'connack', returnCode: 3 });
    await v4.closed;
    const v5 = await RawCar.open(gw.app.mqttPort!, 5);
    expect(await v5.connect(car)).toMatchObject({
      cmd: 'connack',
      reasonCode: 0x88,
      properties: { reasonString: 'server unavailable, try again later' },
    });
    await v5.closed;
    proxy.up();
    await eventually(
      async () => {
        const c = await RawCar.open(gw.app.mqttPort!, 5);
        const code = connackCode(await c.connect(car));
        c.end();
        return code === 0;
      },
      20_000,
      'a CONNACK 0 once the store is back',
    );
  });
});
