/**
 * Deny by default at the MQTT border, over real sockets: who may connect, where a car may
 * publish and subscribe, and what happens to the offender (and only the offender).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { commandTopic, telemetryTopic } from '../../src/ingest/index.js';
import { closedByServer, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const reading = JSON.stringify({ speed: 42, odometer: 1000 });

describe('mqtt ingest access control', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ cars: 3 });
  });
  afterAll(async () => gw?.stop());

  const connectRaw = (opts: mqtt.IClientOptions) =>
    new Promise<{ code: number | undefined; error?: Error }>((resolve) => {
      const c = mqtt.connect(gw.mqttUrl, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        keepalive: 30,
        connectTimeout: 3_000,
        ...opts,
      });
      c.once('connect', () => {
        c.end(true);
        resolve({ code: 0 });
      });
      c.once('error', (error) => {
        c.end(true);
        resolve({ code: (error as { code?: number }).code, error });
      });
      c.once('close', () => resolve({ code: undefined }));
    });

  describe('connecting', () => {
    it('accepts a registered VIN with its secret and client id = VIN', async () => {
      const c = await gw.connect(gw.cars[0]!);
      expect(c.connected).toBe(true);
      await c.endAsync();
    });

    it('refuses a wrong secret with "bad user name or password"', async () => {
      const car = gw.cars[0]!;
      const r = await connectRaw({ clientId: car.vin, username: car.vin, password: 'not-the-secret-at-all-xxxx' });
      expect(r.code).toBe(4);
    });

    it('refuses a client id other than the VIN with "identifier rejected"', async () => {
      const car = gw.cars[0]!;
      const r = await connectRaw({ clientId: gw.cars[1]!.vin, username: car.vin, password: car.secret });
      expect(r.code).toBe(2);
    });

    it('refuses an unregistered VIN', async () => {
      const r = await connectRaw({
        clientId: 'LZZZZ000000000001',
        username: 'LZZZZ000000000001',
        password: 'whatever-secret-of-24-chars',
      });
      expect(r.code).toBe(4);
    });

    it('refuses a connection without credentials', async () => {
      const r = await connectRaw({ clientId: gw.cars[0]!.vin });
      expect(r.code).toBe(4);
    });

    it('refuses a keepalive outside the configured bounds', async () => {
      const car = gw.cars[0]!;
      const r = await connectRaw({ clientId: car.vin, username: car.vin, password: car.secret, keepalive: 0 });
      expect(r.code).not.toBe(0);
      expect(gw.app.ingest.counters.rejected['keepalive-out-of-bounds']).toBeGreaterThan(0);
    });
  });

  describe('publishing', () => {
    it('stores telemetry a car publishes to its own topic', async () => {
      const car = gw.cars[0]!;
      const before = (await gw.app.store.counts()).records;
      const c = await gw.connect(car);
      await c.publishAsync(telemetryTopic(car.vin), reading, { qos: 1 });
      expect((await gw.app.store.counts()).records).toBe(before + 1);
      await c.endAsync();
    });

    it("disconnects a car that publishes to another VIN's topic, and stores nothing of it", async () => {
      const [a, b] = gw.cars;
      const before = (await gw.app.store.counts()).records;
      const c = await gw.connect(a!);
      const closed = closedByServer(c);
      c.publish(telemetryTopic(b!.vin), reading, { qos: 1 });
      await closed;
      expect((await gw.app.store.counts()).records).toBe(before);
      expect(gw.app.ingest.counters.rejected['publish-topic-denied']).toBeGreaterThan(0);
    });

    it('disconnects a car that publishes to any other topic, its own command topic included', async () => {
      const car = gw.cars[0]!;
      for (const topic of [commandTopic(car.vin), `vehicles/${car.vin}/telemetry/x`, '$SYS/broker', 'telemetry']) {
        const c = await gw.connect(car);
        const closed = closedByServer(c);
        c.publish(topic, reading, { qos: 1 });
        await closed;
      }
    });

    it('keeps other cars connected while one offender is disconnected', async () => {
      const [a, b] = gw.cars;
      const good = await gw.connect(b!);
      const bad = await gw.connect(a!);
      const closed = closedByServer(bad);
      bad.publish(telemetryTopic(b!.vin), reading, { qos: 1 });
      await closed;
      await good.publishAsync(telemetryTopic(b!.vin), reading, { qos: 1 });
      expect(good.connected).toBe(true);
      await good.endAsync();
    });
  });

  describe('subscribing', () => {
    it('grants a car its own command topic', async () => {
      const car = gw.cars[0]!;
      const c = await gw.connect(car);
      const granted = await c.subscribeAsync(commandTopic(car.vin), { qos: 1 });
      expect(granted[0]!.qos).toBe(1);
      await c.endAsync();
    });

    it("refuses every other topic, wildcards and other cars' commands included (SUBACK 0x80)", async () => {
      const [a, b] = gw.cars;
      const c = await gw.connect(a!);
      for (const topic of [
        commandTopic(b!.vin),
        telemetryTopic(a!.vin),
        `vehicles/${a!.vin}/#`,
        'vehicles/+/commands',
        '#',
        '$SYS/#',
      ]) {
        // mqtt.js turns a SUBACK failure code into an error that carries the packet.
        const err = await c.subscribeAsync(topic, { qos: 1 }).then(
          () => undefined,
          (e: { packet?: { granted?: number[] } }) => e,
        );
        expect(err?.packet?.granted, topic).toEqual([128]);
        expect(c.connected, `still connected after refusing ${topic}`).toBe(true);
      }
      await c.endAsync();
    });

    it('delivers a downlink command to the car it is for, and to no other', async () => {
      const [a, b] = gw.cars;
      const ca = await gw.connect(a!);
      const cb = await gw.connect(b!);
      await ca.subscribeAsync(commandTopic(a!.vin), { qos: 1 });
      await cb.subscribeAsync(commandTopic(b!.vin), { qos: 1 });
      const got: string[] = [];
      ca.on('message', (t) => got.push(`a:${t}`));
      cb.on('message', (t) => got.push(`b:${t}`));
      await gw.app.ingest.publishCommand(a!.vin, Buffer.from('{"cmd":"ping"}'));
      // Then one for b, as a sentinel: b's connection carries what the gateway sends it in order,
      // so a's command, had it gone to b too, would be there before b's own.
      await gw.app.ingest.publishCommand(b!.vin, Buffer.from('{"cmd":"sentinel"}'));
      const expected = [`a:${commandTopic(a!.vin)}`, `b:${commandTopic(b!.vin)}`];
      await eventually(() => expected.every((m) => got.includes(m)), 2_000, 'both commands delivered');
      expect(got.sort()).toEqual(expected);
      await ca.endAsync();
      await cb.endAsync();
    });
  });
});
