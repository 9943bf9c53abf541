/**
 * Benchmark (not a test): MQTT publish → gateway → outbox → Kafka → egress worker → OEM sink.
 *
 *   bash deploy/kafka.sh start && npm run build && node --import tsx bench/kafka-e2e.ts
 *
 * The gateway runs as its own process (`node bin/shekara.js start`), as in production, and so
 * does the OEM sink (`shekara oem-sink`); the cars (real mqtt.js clients) run in this process.
 *  1. throughput: VEHICLES_T cars publish TOTAL QoS 1 messages as fast as PUBACKs allow
 *     (a window of WINDOW per car); records/s = delivered records / (last delivery − first publish).
 *  2. latency: 1,000 cars at a fixed 2,000 msgs/s for RUN_S seconds; p50/p99 from the car's
 *     timestamp in the payload to the sink receiving the POST (first WARMUP_S seconds dropped).
 *  3. drain (the Kafka leg alone): DRAIN cars' records are first stored with the OEM unreachable
 *     (local queue, nothing delivered), the gateway stopped, then started in Kafka mode with the
 *     OEM up; records/s = delivered / (last delivery − first delivery): relay → Kafka → consumers →
 *     batched POSTs → outcomes settled, with no ingest competing. Ingest bounds (1); this does not.
 *     Also the drain's CPU per record by process and by gateway thread (from /proc: the named
 *     threads shk-egress, shk-writer, shk-selfcheck, the main thread, V8's and libuv's helpers),
 *     the OEM sink, the Kafka broker's JVM (shared with whatever else uses it) and this process.
 *     DRAIN_QUEUE=local: the embedded default's leg instead (local queue, egress worker thread,
 *     settlements through the writer thread): the records are stored by `--role ingest` (nothing
 *     delivered, every row due at once), then the gateway starts as `--role all` with the OEM up.
 * Env: TOTAL (40000), VEHICLES_T (100), WINDOW (20), RATE (2000), VEHICLES_L (1000), RUN_S (20),
 *      DRAIN (40000), DRAIN_QUEUE (kafka | local), BATCH (100: the OEM's `batch.maxRecords`; 1 = one POST per record),
 *      ONLY (throughput,drain,latency), GATEWAY (bin/shekara.js: the build under test, e.g. a copy
 *      of an older build's bin/ + dist/; the sink always runs from this checkout), LABEL,
 *      TRACING (0; 1 = telemetry.tracing on, sampleRatio 1, exporting OTLP/HTTP to a collector
 *      stand-in in this process that reads and discards the spans: the cost of tracing on).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { registerSimCars } from '../src/sim/simulate.js';
import { telemetryTopic } from '../src/ingest/index.js';
import { startCountingCollector } from './otlp-sink.js';
import { cpuByRole, cpuSecondsOf, findProcess, threadRoles } from './proc-cpu.js';
import { freePort, startSink, type Sink } from './oem-sink-process.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const TOTAL = env('TOTAL', 40_000),
  VEHICLES_T = env('VEHICLES_T', 100),
  WINDOW = env('WINDOW', 20);
const RATE = env('RATE', 2_000),
  VEHICLES_L = env('VEHICLES_L', 1_000),
  RUN_S = env('RUN_S', 20),
  WARMUP_S = 3;
const BROKERS = [`127.0.0.1:${process.env.SHEKARA_KAFKA_PORT ?? '19092'}`];
const TRACING = process.env.TRACING === '1';
const DRAIN = env('DRAIN', 40_000);
const BATCH = env('BATCH', 100);
const DRAIN_LOCAL = process.env.DRAIN_QUEUE === 'local';
const ONLY = new Set((process.env.ONLY ?? 'throughput,drain,latency').split(','));
const GATEWAY = process.env.GATEWAY ?? 'bin/shekara.js';

/** With TRACING: an OTLP/HTTP collector stand-in that reads each export and counts what came. */
const collector = TRACING ? await startCountingCollector() : undefined;
const POLICY = `oem: demo-oem\npurposes:\n  - id: odometer\n    description: bench\n    fields:\n      Vehicle.TraveledDistance: pass\n      Vehicle.Speed: pass\n`;

async function startGateway(
  dir: string,
  sinkUrl: string,
  cars: number,
  opts: { queue?: 'kafka' | 'local'; register?: boolean; role?: 'ingest' } = {},
): Promise<{ child: ChildProcess; port: number; creds: { vin: string; secret: string }[] }> {
  writeFileSync(path.join(dir, 'policy.yaml'), POLICY);
  const cfg = path.join(dir, 'shekara.yaml');
  const prefix = `bench${randomBytes(3).toString('hex')}.`;
  writeFileSync(
    cfg,
    stringify({
      dataDir: dir,
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      limits: { messagesPerSecond: 10_000, messageBurst: 10_000 },
      ingest: { maxPendingRecords: 50_000 },
      egress: {
        concurrency: 64,
        requestTimeoutMs: 5_000,
        maxBacklog: 1_000_000,
        maxAttempts: 100, // the drain's first phase fails every delivery on purpose
        queue: {
          kind: opts.queue ?? 'kafka',
          kafka: {
            brokers: BROKERS,
            topicPrefix: prefix,
            partitions: 6,
            relayBatchSize: 1_000,
            relayLingerMs: 2,
            maxWaitTimeMs: 100,
          },
        },
      },
      oems: [
        {
          id: 'demo-oem',
          endpoint: sinkUrl,
          policyFile: 'policy.yaml',
          allowPrivateNetworks: true,
          batch: { maxRecords: BATCH, maxWaitMs: 5 },
        },
      ],
      log: { level: 'warn' },
      ...(collector ? { telemetry: { tracing: { enabled: true, otlpUrl: collector.tracesUrl, sampleRatio: 1 } } } : {}),
    }),
  );
  let creds: { vin: string; secret: string }[] = [];
  if (opts.register !== false) {
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    creds = await registerSimCars(store, cars, 'demo-oem', 'LBNCH');
    await store.close();
  }
  const child = spawn(
    process.execPath,
    [
      ...(process.env.GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      GATEWAY,
      'start',
      '-c',
      cfg,
      ...(opts.role ? ['--role', opts.role] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' } },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /MQTT ingest\s+mqtt:\/\/[^:\s]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}`)));
  });
  return { child, port, creds };
}

const connectAll = (port: number, creds: { vin: string; secret: string }[]) =>
  Promise.all(
    creds.map((c) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: c.vin,
        username: c.vin,
        password: c.secret,
        protocolVersion: 4,
        keepalive: 60,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
      }),
    ),
  );
const payload = (i: number) => JSON.stringify({ ts: new Date().toISOString(), speed: i % 120, odometer: i });
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
/** The gateway process's CPU time (user + system): what a record costs it, whatever else loads the machine. */
const cpuSeconds = (pid: number | undefined): number => cpuSecondsOf(pid!);
/** The Kafka broker's JVM (shared with whoever else uses it: its CPU is an upper bound for this run). */
const brokerPid = (): number | undefined => findProcess('kafka.Kafka');
const waitFor = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return cond();
};

/** Disconnects the cars, stops the gateway and the sink, removes the run's directory. */
async function teardown(clients: MqttClient[], gateway: ChildProcess, sink: Sink, dir: string): Promise<void> {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  gateway.kill('SIGTERM');
  sink.close();
  await new Promise((r) => gateway.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}

async function throughput(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-bench-'));
  const sink = await startSink(dir);
  const gw = await startGateway(dir, sink.url, VEHICLES_T);
  const clients: MqttClient[] = await connectAll(gw.port, gw.creds);
  await new Promise((r) => setTimeout(r, 3_000)); // consumer group joined
  const cpu0 = cpuSeconds(gw.child.pid);
  const t0 = Date.now();
  const acked = await publishAll(
    clients,
    gw.creds.map((c) => c.vin),
    TOTAL,
  );
  const tAcked = Date.now();
  const lagAtAcked = acked - sink.count;
  const ok = await waitFor(() => sink.count >= TOTAL, 300_000);
  const cpuMs = ((cpuSeconds(gw.child.pid) - cpu0) * 1000) / Math.max(1, sink.count);
  const secs = (sink.last - t0) / 1000;
  await teardown(clients, gw.child, sink, dir);
  return (
    `throughput: ${TOTAL} records, ${VEHICLES_T} cars × window ${WINDOW}: ingest ${(acked / ((tAcked - t0) / 1000)).toFixed(0)} acked/s, ` +
    `end-to-end ${(sink.count / secs).toFixed(0)} records/s (${sink.count} delivered in ${secs.toFixed(1)} s${ok ? '' : ', INCOMPLETE'}; ` +
    `${lagAtAcked} acked but not yet delivered when the last PUBACK came, delivered ${((sink.last - tAcked) / 1000).toFixed(1)} s later); ` +
    `gateway CPU ${cpuMs.toFixed(2)} ms per record`
  );
}

/** Publishes `total` records from `clients` as fast as PUBACKs allow (WINDOW per car). */
async function publishAll(clients: MqttClient[], vins: string[], total: number): Promise<number> {
  let next = 0,
    acked = 0;
  await Promise.all(
    clients.map(async (c, i) => {
      const topic = telemetryTopic(vins[i]!);
      const lane = async () => {
        while (next < total) {
          next += 1;
          await c.publishAsync(topic, payload(next), { qos: 1 });
          acked += 1;
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, lane));
    }),
  );
  return acked;
}

async function drain(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-bench-'));
  const sinkPort = await freePort();
  const url = `http://127.0.0.1:${sinkPort}/oem`;
  // Phase 1: the records are stored while the OEM is unreachable (nothing listens on its port);
  // for the local leg by an ingest-only gateway, so no row waits out a retry's backoff after.
  const gw1 = await startGateway(dir, url, VEHICLES_T, { queue: 'local', ...(DRAIN_LOCAL ? { role: 'ingest' } : {}) });
  const clients = await connectAll(gw1.port, gw1.creds);
  const acked = await publishAll(
    clients,
    gw1.creds.map((c) => c.vin),
    DRAIN,
  );
  await Promise.all(clients.map((c) => c.endAsync(true)));
  gw1.child.kill('SIGTERM');
  await new Promise((r) => gw1.child.once('exit', r));
  // Phase 2: the OEM is up; the gateway starts in Kafka mode (or local) with every record still pending.
  const sink = await startSink(dir, sinkPort);
  const t0 = Date.now();
  const cpu = { pid: 0, at: 0 };
  const gw2 = await startGateway(dir, url, VEHICLES_T, { queue: DRAIN_LOCAL ? 'local' : 'kafka', register: false });
  cpu.pid = gw2.child.pid!;
  cpu.at = cpuSeconds(cpu.pid);
  const broker = DRAIN_LOCAL ? undefined : brokerPid();
  const before = {
    threads: threadRoles(cpu.pid),
    sink: cpuSeconds(sink.pid),
    broker: broker ? cpuSeconds(broker) : NaN,
    bench: process.cpuUsage(),
  };
  const ok = await waitFor(() => sink.count >= acked, 300_000);
  const n = Math.max(1, sink.count);
  const cpuMs = ((cpuSeconds(cpu.pid) - cpu.at) * 1000) / n;
  const usPer = (s: number) => ((s * 1e6) / n).toFixed(0);
  const threads = [...cpuByRole(before.threads, threadRoles(cpu.pid))];
  const benchCpu = process.cpuUsage(before.bench);
  const accounts = [
    `  gateway (pid ${cpu.pid}) by thread, µs per record: ${threads.map(([name, t]) => `${name}${t.n > 1 ? ` (${t.n} threads)` : ''} ${usPer(t.s)}`).join(', ')}`,
    `  OEM sink ${usPer(cpuSeconds(sink.pid) - before.sink)} µs/record; ` +
      (DRAIN_LOCAL
        ? ''
        : `Kafka broker (JVM, shared) ${broker ? usPer(cpuSeconds(broker) - before.broker) : '?'} µs/record; `) +
      `this bench ${usPer((benchCpu.user + benchCpu.system) / 1e6)} µs/record`,
  ];
  const secs = (sink.last - sink.first) / 1000;
  await teardown([], gw2.child, sink, dir);
  return (
    `drain (${DRAIN_LOCAL ? 'local queue' : 'Kafka leg'}, no ingest): ${acked} stored records, OEM batch.maxRecords ${BATCH}: ` +
    `${(sink.count / secs).toFixed(0)} records/s from first to last delivery (${sink.count} delivered in ${secs.toFixed(1)} s${ok ? '' : ', INCOMPLETE'}; ` +
    `${((sink.last - t0) / 1000).toFixed(1)} s from gateway start); gateway CPU ${cpuMs.toFixed(2)} ms per record\n` +
    accounts.join('\n')
  );
}

async function latency(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-bench-'));
  const sink = await startSink(dir);
  const gw = await startGateway(dir, sink.url, VEHICLES_L);
  const clients = await connectAll(gw.port, gw.creds);
  await new Promise((r) => setTimeout(r, 3_000));
  const t0 = Date.now();
  sink.measureFrom = t0 + WARMUP_S * 1000;
  let sent = 0,
    car = 0,
    due = 0;
  const tickMs = 10;
  const timer = setInterval(() => {
    due += (RATE * tickMs) / 1000;
    for (; due >= 1; due -= 1) {
      sent += 1;
      const i = car++ % clients.length;
      clients[i]!.publish(telemetryTopic(gw.creds[i]!.vin), payload(sent), { qos: 1 });
    }
  }, tickMs);
  await new Promise((r) => setTimeout(r, RUN_S * 1000));
  clearInterval(timer);
  const achieved = sent / ((Date.now() - t0) / 1000);
  await waitFor(() => sink.count >= sent, 60_000);
  const l = sink.latencies;
  await teardown(clients, gw.child, sink, dir);
  return (
    `latency: ${VEHICLES_L} cars at ${RATE} msgs/s (achieved ${achieved.toFixed(0)}/s) for ${RUN_S} s: delivered ${sink.count}/${sent}; ` +
    `publish→OEM p50 ${pct(l, 50)} ms, p99 ${pct(l, 99)} ms, max ${Math.max(...l)} ms (n=${l.length}, first ${WARMUP_S} s dropped)`
  );
}

const lines = [
  `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average before ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
];
if (ONLY.has('throughput')) lines.push(await throughput());
if (ONLY.has('drain')) lines.push(await drain());
if (ONLY.has('latency')) lines.push(await latency());
lines.push(
  collector
    ? `tracing: on (sampleRatio 1): ${collector.requests} OTLP export requests, ${(collector.bytes / 1_048_576).toFixed(1)} MiB of spans`
    : 'tracing: off',
);
lines.push(
  `command: ${TRACING ? 'TRACING=1 ' : ''}${DRAIN_LOCAL ? 'DRAIN_QUEUE=local ' : ''}node --import tsx bench/kafka-e2e.ts   (Kafka from deploy/kafka.sh on ${BROKERS.join(',')}; ` +
    `gateway ${GATEWAY}${process.env.LABEL ? ` = ${process.env.LABEL}` : ''}; OEM batch.maxRecords ${BATCH}; load average after ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})`,
);
console.log(lines.join('\n'));
process.exit(0);
