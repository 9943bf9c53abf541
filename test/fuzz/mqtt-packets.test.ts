/**
 * Fuzzing the car endpoint at the byte level, over real TCP sockets: valid MQTT 3.1.1 and 5
 * sessions (CONNECT, PUBLISH QoS 0/1/2, SUBSCRIBE, PINGREQ, DISCONNECT) mutated (bits flipped,
 * bytes set to boundary values, inserted, deleted, cut short), random bytes, remaining lengths
 * at every encoding boundary and the packet limit, and valid sessions whose PUBLISH payload is
 * random bytes. What must hold: the gateway never crashes and keeps serving (a car connects and
 * gets its PUBACK after every batch); a well-formed QoS 1 PUBLISH on the car's own topic is
 * always answered with a PUBACK, whatever its payload, never a disconnect; and every PUBACKed
 * message is stored or quarantined.
 *
 * Bounded by FUZZ_SECONDS (default 5, budget.ts) or FUZZ_RUNS; the case counts are printed.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { connectPacket as carConnect, remainingLength, type Version } from '../helpers/raw-mqtt.js';
import { assertProperty, fuzzBudget } from './budget.js';

const budget = fuzzBudget();
const MAX_PACKET = 4_096;

/** What came back on one socket. */
interface Outcome {
  readonly packets: Packet[];
  readonly closedByServer: boolean;
}

/** Writes `chunks` on a fresh socket and collects the answers until the server closes or goes quiet. */
function exchange(
  port: number,
  version: Version,
  chunks: Buffer[],
  until?: (p: Packet[]) => boolean,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const packets: Packet[] = [];
    const parser = mqttPacket.parser({ protocolVersion: version });
    parser.on('packet', (p: Packet) => packets.push(p));
    parser.on('error', () => undefined);
    const socket = connect(port, '127.0.0.1');
    let closedByServer = false;
    let quiet: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(cap);
      socket.destroy();
      resolve({ packets, closedByServer });
    };
    // Quiet for a while (or the awaited answer came): the exchange is over. Under load a commit
    // can take seconds, so a case waiting for a PUBACK waits for it, up to the cap.
    const idle = () => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, until ? 15_000 : 400);
    };
    const cap = setTimeout(finish, 20_000);
    socket.on('data', (d: Buffer) => {
      parser.parse(d);
      if (until?.(packets)) finish();
      else idle();
    });
    socket.on('error', () => undefined);
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', () => {
      if (!done) closedByServer = true;
      finish();
    });
    socket.once('connect', () => {
      for (const c of chunks) socket.write(c);
      idle();
    });
  });
}

describe('fuzz › MQTT packets against the car endpoint', () => {
  let gw: TestGateway;
  let car: { vin: string; secret: string };
  const gen = (p: Packet, version: Version) => mqttPacket.generate(p, { protocolVersion: version });
  const connectPacket = (version: Version): Packet => carConnect(car, version);
  const publish = (qos: 0 | 1 | 2, payload: Buffer, messageId = 7): Packet => ({
    cmd: 'publish',
    topic: telemetryTopic(car.vin),
    payload,
    qos,
    dup: false,
    retain: false,
    ...(qos > 0 ? { messageId } : {}),
  });
  /** A valid session, as bytes: the seed every mutation starts from. */
  const session = (version: Version, payload: Buffer): Buffer =>
    Buffer.concat([
      gen(connectPacket(version), version),
      gen(publish(1, payload, 7), version),
      gen(publish(0, payload), version),
      gen(publish(2, payload, 9), version),
      gen(
        {
          cmd: 'subscribe',
          messageId: 3,
          subscriptions: [{ topic: `vehicles/${car.vin}/commands`, qos: 1 }],
        } as Packet,
        version,
      ),
      gen({ cmd: 'pingreq' }, version),
      gen({ cmd: 'disconnect' }, version),
    ]);

  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 1,
      config: {
        limits: {
          maxPacketBytes: MAX_PACKET,
          connectTimeoutMs: 1_000,
          messagesPerSecond: 1_000_000,
          messageBurst: 1_000_000,
          connectsPerVehiclePerMinute: 1_000_000,
          connectionsPerAddressPerSecond: 1_000_000,
          connectionBurstPerAddress: 1_000_000,
        },
      },
    });
    car = gw.cars[0]!;
  });
  afterAll(async () => gw?.stop());

  /** A car that connects and publishes QoS 1 gets its PUBACK: the endpoint still serves. */
  async function stillServes(): Promise<void> {
    const c = await gw.connect(car);
    await c.publishAsync(telemetryTopic(car.vin), '{"speed":1}', { qos: 1 });
    await c.endAsync();
  }

  it(
    'never crashes, answers every well-formed QoS 1 PUBLISH, and keeps what it acknowledged',
    async () => {
      const port = gw.app.mqttPort!;
      const before = await gw.app.store.counts();
      const stats = { mutated: 0, random: 0, boundary: 0, payload: 0, pubacks: 0, serverClosed: 0, v5Closed: 0 };
      const version = fc.constantFrom<Version>(4, 5);
      const payload = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
        fc.record({
          kind: fc.constant('set' as const),
          at: fc.nat(),
          value: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x01, 0xc0),
        }),
        fc.record({
          kind: fc.constant('insert' as const),
          at: fc.nat(),
          bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
        }),
        fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      );
      const cases = fc.oneof(
        {
          weight: 5,
          arbitrary: fc.record({
            kind: fc.constant('mutated' as const),
            version,
            payload,
            mutations: fc.array(mutation, { minLength: 1, maxLength: 5 }),
            split: fc.nat(),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('random' as const),
            version,
            bytes: fc.uint8Array({ maxLength: 300 }),
          }),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            kind: fc.constant('boundary' as const),
            version,
            // Declared remaining lengths at each varint boundary, at the packet limit, and a 5-byte length.
            declared: fc.constantFrom(
              0,
              1,
              127,
              128,
              16_383,
              16_384,
              MAX_PACKET - 3,
              MAX_PACKET - 2,
              MAX_PACKET - 1,
              MAX_PACKET,
              2_097_151,
              2_097_152,
              268_435_455,
              -1,
            ),
            sent: fc.constantFrom('all', 'short', 'none'),
          }),
        },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('payload' as const), version, payload }) },
      );
      let n = 0;
      await assertProperty(
        fc.asyncProperty(cases, async (c) => {
          if (budget.over()) return;
          n += 1;
          stats[c.kind] += 1;
          let out: Outcome;
          if (c.kind === 'payload') {
            // A well-formed session whose payload is anything: CONNACK, then PUBACK for id 7, never a close first.
            out = await exchange(
              port,
              c.version,
              [Buffer.concat([gen(connectPacket(c.version), c.version), gen(publish(1, c.payload, 7), c.version)])],
              (p) => p.some((x) => x.cmd === 'puback'),
            );
            const puback = out.packets.find((p) => p.cmd === 'puback') as
              (Packet & { messageId?: number; reasonCode?: number }) | undefined;
            expect(out.packets[0]?.cmd, 'CONNACK first').toBe('connack');
            expect(
              puback?.messageId,
              `PUBACK for a ${c.payload.length}-byte payload (closed: ${out.closedByServer})`,
            ).toBe(7);
            expect(puback?.reasonCode ?? 0, 'PUBACK reason: stored or quarantined is success').toBeLessThan(0x80);
          } else if (c.kind === 'boundary') {
            const head = gen(connectPacket(c.version), c.version);
            const len = c.declared < 0 ? Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]) : remainingLength(c.declared);
            const topic = Buffer.from(telemetryTopic(car.vin));
            const body = Buffer.alloc(Math.min(Math.max(c.declared, 0), MAX_PACKET * 2));
            // A PUBLISH on the car's own topic, padded to the declared length with zero bytes.
            if (body.length >= 2 + topic.length) {
              body.writeUInt16BE(topic.length, 0);
              topic.copy(body, 2);
            }
            const sent =
              c.sent === 'all' ? body : c.sent === 'short' ? body.subarray(0, body.length >> 1) : Buffer.alloc(0);
            out = await exchange(port, c.version, [head, Buffer.from([0x30]), len, sent]);
          } else {
            const bytes =
              c.kind === 'random' ? Buffer.from(c.bytes) : mutate(session(c.version, c.payload), c.mutations);
            const at = c.kind === 'mutated' ? c.split % (bytes.length + 1) : bytes.length;
            out = await exchange(port, c.version, [bytes.subarray(0, at), bytes.subarray(at)]);
          }
          stats.pubacks += out.packets.filter((p) => p.cmd === 'puback').length;
          if (out.closedByServer) stats.serverClosed += 1;
          // MQTT 5 says why it closes a connected session: a DISCONNECT with a reason code (the
          // boundary cases send no DISCONNECT of their own, so a close there is the gateway's).
          const cmds = out.packets.map((p) => p.cmd);
          if (c.kind === 'boundary' && c.version === 5 && out.closedByServer && cmds.includes('connack')) {
            stats.v5Closed += 1;
            expect(cmds, `declared ${c.declared}, sent ${c.sent}: closed without a DISCONNECT`).toContain('disconnect');
          }
          if (n % 50 === 0) await stillServes();
        }),
        budget,
      );
      await stillServes();
      const after = await gw.app.store.counts();
      const kept = after.records - before.records + (after.quarantine - before.quarantine);
      console.log(
        `fuzz MQTT: ${n} sockets (${stats.mutated} mutated sessions, ${stats.random} random, ${stats.boundary} boundary lengths, ` +
          `${stats.payload} random payloads); ${stats.pubacks} PUBACKs, ${kept} kept; ${stats.serverClosed} closed by the gateway (${stats.v5Closed} MQTT 5 boundary sessions closed, each with a DISCONNECT reason); 0 crashes`,
      );
      expect(n).toBeGreaterThan(0);
      // Every PUBACK stands for a record or a quarantined payload (QoS 0 messages may add more).
      expect(kept).toBeGreaterThanOrEqual(stats.pubacks);
    },
    budget.timeout,
  );
});

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'cut'; at: number };

function mutate(seed: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at]! ^= 1 << m.bit;
    else if (m.kind === 'set') b[at] = m.value;
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
    else b = b.subarray(0, at);
  }
  return b;
}
