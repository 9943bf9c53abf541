/**
 * Keepalive while PUBACKs are withheld: ingest pushed back (the OEM answers 503, egress.maxBacklog
 * small) holds a car's PUBACKs for as long as the OEM is down. A car at the Receive Maximum then
 * sends nothing but PINGREQ; the gateway keeps reading it and answers at once, so neither the
 * car's client library nor the server's keepalive sweep drops it. Once the OEM is back every
 * PUBACK arrives, in order, and the OEM gets every record.
 * Real mqtt.js and a raw-socket car over TCP, a real gateway, an OEM sink that answers 503.
 */
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import {
  deliveredSignal,
  eventually,
  QUICK_EGRESS_RETRIES,
  startTestGateway,
  type TestGateway,
} from '../helpers/gateway.js';
import { RawCar } from '../helpers/raw-mqtt.js';

const RECEIVE_MAXIMUM = 5;
const KEEPALIVE_S = 1;
/** Longer than 3 × the keepalive: the car and the server would each have given up by then. */
const HELD_MS = 3.5 * KEEPALIVE_S * 1_000;

/** limits.maxPacketBytes here, and so how much may wait unread per car before its socket is paused. */
const QUEUED_BOUND = 1_024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const deliveredSpeeds = (gw: TestGateway, n: number) => deliveredSignal(gw, 'Vehicle.Speed', n);

/** Six QoS 1 PUBLISHes, each acknowledged while the backlog fills, until ingest is pushed back. */
async function fillBacklog(gw: TestGateway, raw: RawCar, topic: string, base: number): Promise<void> {
  for (let id = 1; id <= 6; id++) {
    raw.send(raw.publish(topic, JSON.stringify({ speed: base + id }), 1, id));
    expect(await raw.next()).toMatchObject({ cmd: 'puback', messageId: id });
  }
  await eventually(() => gw.app.egress.saturated, 5_000, 'the queue to report saturation');
}

describe('ingest › keepalive while PUBACKs are withheld', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 3,
      config: {
        limits: {
          keepaliveMinSeconds: 1,
          receiveMaximum: RECEIVE_MAXIMUM,
          maxPacketBytes: QUEUED_BOUND,
          messagesPerSecond: 1_000,
          messageBurst: 1_000,
        },
        egress: { maxBacklog: 5, ...QUICK_EGRESS_RETRIES },
      },
    });
  });
  afterAll(async () => gw?.stop());

  it('keeps an MQTT 5 car at its Receive Maximum connected, then acknowledges every PUBLISH in order', async () => {
    const car = gw.cars[0]!;
    gw.sink.setStatus(503); // the OEM is down: the outbox fills and ingest is pushed back
    const client = await gw.connect(car, { protocolVersion: 5, keepalive: KEEPALIVE_S });
    const dropped: string[] = [];
    for (const ev of ['close', 'disconnect', 'reconnect', 'offline', 'error'] as const)
      client.on(ev, () => dropped.push(ev));
    const pubacks: number[] = [];
    let pingresps = 0;
    client.on('packetreceive', (p: Packet) => {
      if (p.cmd === 'puback') pubacks.push(p.messageId!);
      if (p.cmd === 'pingresp') pingresps += 1;
    });
    const sent: number[] = [];
    client.on('packetsend', (p: Packet) => {
      if (p.cmd === 'publish' && p.qos > 0) sent.push((p as IPublishPacket).messageId!);
    });

    for (let i = 0; i < 6; i++)
      await client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: i }), { qos: 1 });
    await eventually(() => gw.app.egress.saturated, 5_000, 'the queue to report saturation');

    // The whole in-flight window, PUBACKs withheld; the car honours the Receive Maximum and sends no more.
    const withheld = Array.from({ length: RECEIVE_MAXIMUM }, (_, i) =>
      client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: 10 + i }), { qos: 1 }),
    );
    await eventually(() => sent.length === 6 + RECEIVE_MAXIMUM, 5_000, 'the window sent');
    await eventually(() => gw.app.ingest.waiting >= 1, 5_000, 'a record held in line');
    const acksBefore = pubacks.length;
    const pingsBefore = pingresps;
    await sleep(HELD_MS);
    expect(pubacks.length).toBe(acksBefore); // still withheld: the hold did last
    expect(pingresps).toBeGreaterThan(pingsBefore + 1);
    expect(dropped).toEqual([]);
    expect(client.connected).toBe(true);

    gw.sink.setStatus(200); // the OEM is back: the backlog drains and PUBACKs flow
    await Promise.all(withheld);
    expect(pubacks).toEqual(sent);
    expect(dropped).toEqual([]);
    expect(await deliveredSpeeds(gw, 6 + RECEIVE_MAXIMUM)).toEqual([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14]);
  });

  it('answers a 3.1.1 car that keeps sending PINGREQ while its PUBLISHes wait, then acknowledges them in order', async () => {
    const car = gw.cars[1]!;
    const before = gw.sink.deliveries.length;
    gw.sink.setStatus(503);
    const raw = await RawCar.open(gw.app.mqttPort!, 4);
    expect((await raw.connect(car, { keepalive: KEEPALIVE_S }))?.returnCode).toBe(0);
    const topic = telemetryTopic(car.vin);
    await fillBacklog(gw, raw, topic, 100);

    // Past the Receive Maximum (3.1.1 is not told it): those beyond it wait in line as packets.
    const ids = Array.from({ length: RECEIVE_MAXIMUM + 2 }, (_, i) => 7 + i);
    raw.send(...ids.map((id) => raw.publish(topic, JSON.stringify({ speed: 100 + id }), 1, id)));
    await eventually(() => gw.app.ingest.waiting >= 1, 5_000, 'a record held in line');
    // A PINGREQ every half keepalive for longer than 3 × the keepalive: each answered at once.
    for (let t = 0; t < HELD_MS; t += 500) {
      raw.send({ cmd: 'pingreq' });
      expect(await raw.next(2_000)).toMatchObject({ cmd: 'pingresp' });
      await sleep(500);
    }

    gw.sink.setStatus(200);
    const acked: number[] = [];
    for (let n = 0; n < ids.length; n++) {
      const p = await raw.next(10_000);
      expect(p?.cmd).toBe('puback');
      acked.push((p as { messageId: number }).messageId);
    }
    expect(acked).toEqual(ids);
    const speeds = await deliveredSpeeds(gw, before + 6 + ids.length);
    expect(speeds.slice(-(6 + ids.length))).toEqual([1, 2, 3, 4, 5, 6, ...ids].map((id) => 100 + id));
    raw.end();
  });

  it('does not time out a car whose socket it paused for what waits past the bound, then acknowledges all in order', async () => {
    const car = gw.cars[2]!;
    const before = gw.sink.deliveries.length;
    gw.sink.setStatus(503);
    const raw = await RawCar.open(gw.app.mqttPort!, 4);
    let closed = false;
    void raw.closed.then(() => (closed = true));
    expect((await raw.connect(car, { keepalive: KEEPALIVE_S }))?.returnCode).toBe(0);
    const topic = telemetryTopic(car.vin);
    await fillBacklog(gw, raw, topic, 200);

    // Past the Receive Maximum and then past the bound (each PUBLISH ~60 bytes): the socket is paused.
    const ids = Array.from({ length: 40 }, (_, i) => 7 + i);
    raw.send(...ids.map((id) => raw.publish(topic, JSON.stringify({ speed: 200 + id }), 1, id)));
    // The car pings as it should; while its socket is paused the PINGREQs wait unread in TCP.
    const pinging = setInterval(() => raw.send({ cmd: 'pingreq' }), 500);
    try {
      await eventually(() => gw.app.ingest.waiting >= 1, 5_000, 'a record held in line');
      await expect(raw.next(HELD_MS)).rejects.toThrow(/no packet/); // unread: not even a PINGRESP
      expect(closed).toBe(false); // and the keepalive sweep did not count it against the car

      gw.sink.setStatus(200);
      const acked: number[] = [];
      while (acked.length < ids.length) {
        const p = await raw.next(10_000);
        if (p?.cmd === 'pingresp') continue;
        expect(p?.cmd).toBe('puback');
        acked.push((p as { messageId: number }).messageId);
      }
      expect(acked).toEqual(ids);
    } finally {
      clearInterval(pinging);
    }
    const all = [1, 2, 3, 4, 5, 6, ...ids].map((id) => 200 + id);
    const speeds = await deliveredSpeeds(gw, before + all.length);
    expect(speeds.slice(-all.length)).toEqual(all);
    raw.end();
  });
});
