/** Per-connection limits, over real sockets: each one disconnects only the offender, with a reason. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as tcpConnect } from 'node:net';
import { telemetryTopic } from '../../src/ingest/index.js';
import { closedByServer, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('mqtt ingest limits', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 3,
      config: {
        limits: {
          maxPacketBytes: 2048,
          connectTimeoutMs: 300,
          messagesPerSecond: 5,
          messageBurst: 5,
          maxTopicLength: 64,
        },
      },
    });
  });
  afterAll(async () => gw?.stop());

  it('disconnects a car whose packet is larger than maxPacketBytes', async () => {
    const car = gw.cars[0]!;
    const before = (await gw.app.store.counts()).records;
    const c = await gw.connect(car);
    const closed = closedByServer(c);
    c.publish(telemetryTopic(car.vin), JSON.stringify({ speed: 1, pad: 'x'.repeat(4096) }), { qos: 1 });
    await closed;
    expect(gw.app.ingest.counters.rejected['packet-too-large']).toBe(1);
    expect((await gw.app.store.counts()).records).toBe(before);
  });

  it('cuts a connection on the declared length alone, before the body arrives', async () => {
    const sock = tcpConnect(gw.app.mqttPort!, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const closed = new Promise((r) => sock.once('close', r));
    // PUBLISH fixed header declaring 100 MB (varint 0x80 0x80 0x80 0x30), no body at all.
    sock.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x30]));
    await closed;
    // The first packet must be a CONNECT and is capped at maxConnectBytes [MQTT-3.1.0-1].
    expect(gw.app.ingest.counters.rejected['connect-too-large']).toBe(1);
  });

  it('closes a socket that never sends CONNECT within connectTimeoutMs', async () => {
    const sock = tcpConnect(gw.app.mqttPort!, '127.0.0.1');
    const started = Date.now();
    await new Promise((r) => sock.once('close', r));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('disconnects a car that publishes faster than its rate allows, after storing what was within it', async () => {
    const car = gw.cars[1]!;
    const before = (await gw.app.store.counts()).records;
    const c = await gw.connect(car);
    const closed = closedByServer(c);
    for (let i = 0; i < 20; i++) c.publish(telemetryTopic(car.vin), JSON.stringify({ speed: i }), { qos: 1 });
    await closed;
    expect(gw.app.ingest.counters.rejected['rate-limit-exceeded']).toBeGreaterThan(0);
    // What was within the rate was handed to the store before the close; its commit (on the
    // writer thread) may still be under way when the socket closes.
    await eventually(async () => (await gw.app.store.counts()).records - before >= 5, 10_000, '5 records stored');
    const stored = (await gw.app.store.counts()).records - before;
    expect(stored).toBeLessThan(20);
  });

  it('disconnects a car that publishes to a topic longer than maxTopicLength', async () => {
    const car = gw.cars[2]!;
    const c = await gw.connect(car);
    const closed = closedByServer(c);
    c.publish(`${telemetryTopic(car.vin)}/${'x'.repeat(80)}`, '{}', { qos: 1 });
    await closed;
    expect(gw.app.ingest.counters.rejected['topic-too-long']).toBe(1);
  });

  it('keeps serving other cars after all of the above', async () => {
    const car = gw.cars[2]!;
    const c = await gw.connect(car);
    await c.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: 3 }), { qos: 1 });
    await eventually(async () => (await gw.app.store.counts()).records > 0);
    await c.endAsync();
  });
});
