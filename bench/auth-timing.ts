/**
 * Benchmark (not a test): does the time to refuse a wrong secret tell whether a VIN is
 * registered? The outside review measured known VINs 20–30 µs slower than unknown ones (the
 * unknown path skipped the hash). Now a refusal does the same work for both: the same store read
 * and row mapping (an unknown VIN reads the store's decoy row, VehicleStore.getVehicleForAuth)
 * and the same hash and compare (src/ingest/credentials.ts); it leaves when a timer started
 * before the look-up fires (`limits.authRefusalFloorMs`, default 5 ms), which adds a fixed time
 * but hides no sub-millisecond difference in work (credentials.ts says why). The known − unknown
 * gap should be no larger than the control's.
 *
 *   node --import tsx bench/auth-timing.ts
 *
 * One gateway (embedded default: SQLite, two registered cars), HTTPS ingest with HTTP Basic:
 * REQUESTS requests per kind, each a wrong secret, each answered 401, timed from send to the
 * answer's last byte over a kept-alive connection. Then MQTT: CONNECTS CONNECTs per kind, each
 * refused with CONNACK 4, timed from the socket's connect to the CONNACK. The kinds — known,
 * unknown and a control — are interleaved in rotating order. The control repeats one kind with
 * another VIN (CONTROL=known, the default: the second registered car; CONTROL=unknown: a second
 * unknown VIN), so the noise between two VINs of one kind is printed beside the gap. Prints p10,
 * p25 and median per kind, the gaps between the medians, and the machine load.
 * Env: REQUESTS (4000), CONNECTS (1000), CONTROL (known); SHEKARA_TEST_STORE=postgres runs the
 * gateway on the machine's PostgreSQL. bench/auth-lookup.ts times the look-up alone.
 */
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { request, Agent } from 'node:http';
import { startTestGateway } from '../test/helpers/gateway.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const REQUESTS = env('REQUESTS', 4_000),
  CONNECTS = env('CONNECTS', 1_000);
const UNKNOWN = 'LUNKN000000000099';
const CONTROL = process.env.CONTROL === 'unknown' ? 'unknown' : 'known';
const WRONG = 'wrong-secret-0123456789abcdefghij';

const gw = await startTestGateway({
  cars: 2,
  // A new socket per CONNECT, all from 127.0.0.1: lift the per-address connection rate.
  config: {
    limits: {
      messagesPerSecond: 100_000,
      messageBurst: 100_000,
      connectionsPerAddressPerSecond: 100_000,
      connectionBurstPerAddress: 100_000,
    },
  },
});
const known = gw.cars[0]!.vin;
const control = CONTROL === 'unknown' ? 'LUNKN000000000098' : gw.cars[1]!.vin;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

const post = (vin: string) =>
  new Promise<number>((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port: gw.app.httpPort,
        method: 'POST',
        path: `/v1/vehicles/${vin}/telemetry`,
        headers: { authorization: `Basic ${Buffer.from(`${vin}:${WRONG}`).toString('base64')}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 401) reject(new Error(`expected 401, got ${res.statusCode}`));
          resolve(Number(process.hrtime.bigint() - t0) / 1000);
        });
      },
    );
    req.on('error', reject);
    req.end('{}');
  });

/** A raw MQTT 3.1.1 CONNECT with username and password (§3.1); resolves with µs to the CONNACK. */
const connectPacket = (vin: string) => {
  const str = (s: string) => {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
  };
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 30]), str(vin), str(vin), str(WRONG)]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
};
const mqttConnect = (vin: string) =>
  new Promise<number>((resolve, reject) => {
    const s = connect(gw.app.mqttPort!, '127.0.0.1');
    let t0 = 0n;
    s.on('connect', () => {
      t0 = process.hrtime.bigint();
      s.write(connectPacket(vin));
    });
    s.once('data', (d) => {
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      s.destroy();
      if (d[0] !== 0x20 || d[3] !== 4) reject(new Error(`expected CONNACK 4, got ${d.toString('hex')}`));
      resolve(us);
    });
    s.on('error', reject);
  });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.floor(p * (s.length - 1))]!.toFixed(0);
  return `p10 ${q(0.1)} µs · p25 ${q(0.25)} µs · median ${q(0.5)} µs`;
};

/** The kinds timed, interleaved: the pair the question is about, and a control pair of one kind. */
const KINDS = [
  ['known VIN, wrong secret', known],
  ['unknown VIN, any secret', UNKNOWN],
  [CONTROL === 'unknown' ? 'control: another unknown VIN' : 'control: another known VIN', control],
] as const;

/**
 * Each round times every kind once, the order rotating from round to round: a request's time
 * depends on where in the loop's millisecond it lands, and so on its place in the round, which
 * would otherwise pass for a difference between kinds.
 */
async function run(what: string, n: number, once: (vin: string) => Promise<number>) {
  const times = KINDS.map(() => [] as number[]);
  for (let i = 0; i < 200; i++) await once(KINDS[i % KINDS.length]![1]); // warm-up, not counted
  for (let i = 0; i < n; i++)
    for (let j = 0; j < KINDS.length; j++) {
      const k = (i + j) % KINDS.length;
      times[k]!.push(await once(KINDS[k]![1]));
    }
  console.log(`${what}, ${n} per kind, interleaved`);
  for (const [k, [label]] of KINDS.entries()) console.log(`  ${`${label}:`.padEnd(32)} ${stats(times[k]!)}`);
  const gap = (a: number, b: number) => `${(median(times[a]!) - median(times[b]!)).toFixed(1)} µs`;
  const pair = CONTROL === 'unknown' ? 1 : 0; // the kind the control repeats
  console.log(`  median gap: known − unknown ${gap(0, 1)}; control, ${CONTROL} − ${CONTROL}: ${gap(pair, 2)}`);
}

console.log(
  `load before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
await run('HTTPS ingest 401', REQUESTS, post);
await run('MQTT CONNACK 4', CONNECTS, mqttConnect);
console.log(
  `load after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
agent.destroy();
await gw.stop();
