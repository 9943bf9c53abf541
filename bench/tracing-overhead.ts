/**
 * Benchmark (not a test): what tracing costs per record, in CPU time rather than wall time, so a
 * machine busy with other work still gives a usable answer.
 *
 *   node --import tsx bench/tracing-overhead.ts
 *
 * One process holds a gateway (embedded default: MQTT endpoint, SQLite, local egress queue), the OEM
 * sink, CARS real mqtt.js cars and, with tracing on, an OTLP/HTTP collector stand-in that reads
 * and discards each export. Each round sends RECORDS QoS 1 messages and waits until the OEM
 * received every projection; the process's CPU time (process.cpuUsage) over the round, per
 * record, is the number. Rounds alternate off / on ROUNDS times each; the difference between
 * the medians is the cost of tracing on (sampleRatio 1: 5 spans per record, exported). A first
 * round, off, warms up and is not counted.
 * Env: RECORDS (3000), CARS (50), ROUNDS (3).
 */
import { cpus, loadavg } from 'node:os';
import { telemetryTopic } from '../src/ingest/index.js';
import { startTestGateway } from '../test/helpers/gateway.js';
import { startCountingCollector } from './otlp-sink.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const RECORDS = env('RECORDS', 3_000),
  CARS = env('CARS', 50),
  ROUNDS = env('ROUNDS', 3);
const POLICY = `oem: demo-oem\npurposes:\n  - id: odometer\n    description: bench\n    fields:\n      Vehicle.TraveledDistance: pass\n      Vehicle.Speed: pass\n`;

const collector = await startCountingCollector();
const otlpUrl = collector.tracesUrl;

async function round(tracing: boolean): Promise<number> {
  const gw = await startTestGateway({
    cars: CARS,
    policy: POLICY,
    config: {
      limits: { messagesPerSecond: 10_000, messageBurst: 10_000 },
      egress: { pollIntervalMs: 50 },
      telemetry: { tracing: { enabled: tracing, otlpUrl } },
    },
  });
  const clients = await Promise.all(gw.cars.map((c) => gw.connect(c)));
  const cpu0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    clients.map(async (c, i) => {
      const topic = telemetryTopic(gw.cars[i]!.vin);
      while (next < RECORDS) {
        next += 1;
        await c.publishAsync(
          topic,
          JSON.stringify({ ts: new Date().toISOString(), speed: next % 120, odometer: next }),
          { qos: 1 },
        );
      }
    }),
  );
  const until = Date.now() + 120_000;
  while (gw.sink.deliveries.length < RECORDS && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  if (tracing) await gw.app.telemetry.tracing.flush(); // the export of this round's spans is its cost too
  const cpu = process.cpuUsage(cpu0);
  const delivered = gw.sink.deliveries.length;
  await gw.stop();
  if (delivered < RECORDS) throw new Error(`only ${delivered}/${RECORDS} delivered`);
  return (cpu.user + cpu.system) / 1000 / RECORDS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const off: number[] = [],
  on: number[] = [];
const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
await round(false); // warm-up (JIT, SQLite page cache): not counted
for (let i = 0; i < ROUNDS; i++) {
  off.push(await round(false));
  on.push(await round(true));
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(', ');
console.log(
  [
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average before ${load}`,
    `CPU ms per record (whole process: ${CARS} cars, gateway, OEM sink), ${RECORDS} records per round:`,
    `  tracing off: ${fmt(off)}  median ${median(off).toFixed(3)}`,
    `  tracing on:  ${fmt(on)}  median ${median(on).toFixed(3)}   (${collector.requests} OTLP exports, ${(collector.bytes / 1_048_576).toFixed(1)} MiB, ${(collector.bytes / (RECORDS * ROUNDS)).toFixed(0)} bytes per record)`,
    `  cost of tracing on: ${(median(on) - median(off)).toFixed(3)} ms CPU per record (${(((median(on) - median(off)) / median(off)) * 100).toFixed(0)} %)`,
    'command: node --import tsx bench/tracing-overhead.ts',
  ].join('\n'),
);
collector.close();
process.exit(0);
