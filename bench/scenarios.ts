/**
 * The four benchmark scenarios. Each run starts its broker fresh (Shekara on a copy of a
 * store that already holds the benchmark's vehicles), its receiver, and its publishers, and
 * stops all of them before returning, so runs do not leak into one another.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createStore } from '../src/store/index.js';
import { loadConfigFile } from '../src/config/load.js';
import {
  PORTS,
  cpuOf,
  loadAvg,
  rssSeries,
  sampleProc,
  sleep,
  startMosquitto,
  startPublishers,
  startReceiver,
  startShekara,
  writeShekaraConfig,
  type Broker,
  type Receiver,
} from './procs.js';
import type { PublisherStats } from './publisher.js';
import { cpuByRole, threadRoles } from './proc-cpu.js';

export type Target = 'shekara' | 'mosquitto';

export interface Env {
  readonly workDir: string;
  readonly templateDb: string;
  readonly credsFile: string;
  readonly egressConcurrency: number;
  /** `--batch N`: the bench OEM takes batched push, up to N records per POST (docs/oem-api.md). */
  readonly oemBatch?: number;
  /** Extra node flags for the gateway, e.g. --cpu-prof. */
  readonly shekaraNodeArgs: string[];
  readonly log: (line: string) => void;
  /** The checkout whose gateway build runs (default: this one); `--baseline DIR` runs another beside it. */
  readonly shekaraRepo?: string;
}

export interface Ctx {
  broker: Broker;
  receiver: Receiver;
  dir: string;
}
let runNo = 0;

export async function withTarget<T>(
  env: Env,
  target: Target,
  fn: (ctx: Ctx) => Promise<T>,
  opts: { receiver?: boolean; crashIsResult?: boolean } = {},
): Promise<T & { storeCounts?: Record<string, number> }> {
  const dir = path.join(env.workDir, `run-${++runNo}-${target}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 }); // the gateway refuses a data directory others can read
  const logFile = path.join(dir, 'broker.log');
  let broker: Broker;
  let receiver: Receiver | undefined;
  try {
    if (target === 'shekara') {
      copyFileSync(env.templateDb, path.join(dir, 'shekara.db'));
      // The sink listens before the gateway starts, so no delivery meets a closed port.
      if (opts.receiver !== false) receiver = await startReceiver({ kind: 'http', port: PORTS.sink });
      broker = await startShekara(
        writeShekaraConfig(dir, { egressConcurrency: env.egressConcurrency, oemBatch: env.oemBatch }),
        logFile,
        env.shekaraNodeArgs,
        env.shekaraRepo,
      );
    } else {
      broker = await startMosquitto(logFile);
      if (opts.receiver !== false) receiver = await startReceiver({ kind: 'mqtt', url: broker.url });
    }
  } catch (err) {
    await receiver?.stop();
    throw err;
  }
  await sleep(1_000); // let start-up work (JIT, first GC) settle before anything is measured
  try {
    const out = await fn({ broker, receiver: receiver!, dir });
    const crash = broker.crashed();
    if (crash && !opts.crashIsResult)
      throw new Error(`${target} died during the run: ${JSON.stringify(crash)}; see ${logFile}`);
    await broker.stop();
    if (target !== 'shekara') return out as T & { storeCounts?: Record<string, number> };
    // Counted after a graceful stop: everything the gateway acknowledged must be in here.
    const store = await createStore(loadConfigFile(path.join(dir, 'shekara.yaml')).store, dir);
    const storeCounts = (await store.counts()) as unknown as Record<string, number>;
    await store.close();
    return { ...(out as T), storeCounts };
  } finally {
    if (!broker.crashed()) await broker.stop();
    await receiver?.stop();
  }
}

/**
 * Waits (bounded by `drainS`) for the far side to catch up with what was sent in the window;
 * what has not arrived counts as infinitely late: a quantile beyond it is null.
 */
export async function arrivals(
  receiver: Receiver,
  w: { measureFrom: number; measureTo: number },
  sent: number,
  drainS: number,
) {
  const waitFrom = Date.now();
  let rep = await receiver.report(w.measureFrom, w.measureTo);
  while (rep.latenciesMs.length < sent && Date.now() - waitFrom < drainS * 1000) {
    await sleep(500);
    rep = await receiver.report(w.measureFrom, w.measureTo);
  }
  const lat = rep.latenciesMs.sort((a, b) => a - b);
  const q = (p: number) => {
    const i = Math.ceil(p * sent) - 1;
    return i < lat.length ? lat[Math.max(0, i)]! : null;
  };
  return { waitFrom, rep, lat, q };
}

export function windows(warmupS: number, measureS: number, tailS = 0, drainS = 5) {
  const startAt = Date.now() + 300;
  const measureFrom = startAt + warmupS * 1000;
  const measureTo = measureFrom + measureS * 1000;
  return { startAt, measureFrom, measureTo, endAt: measureTo + tailS * 1000, drainMs: drainS * 1000 };
}

/** Calls `read` on each of two instants (bench time, ms) and resolves with both readings. */
function atInstants<T>(read: () => T, from: number, to: number): Promise<[T, T]> {
  const at = (t: number) => new Promise<T>((r) => setTimeout(() => r(read()), t - Date.now()));
  return Promise.all([at(from), at(to)]);
}

const eachOf = <T, U>(o: Record<string, T>, f: (v: T) => U): Record<string, U> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

/** CPU of each process group between two instants, in % of one core, sampled on the instants. */
export async function cpuMeter(
  groups: Record<string, number[]>,
  from: number,
  to: number,
): Promise<Record<string, number>> {
  const [a, b] = await atInstants(() => eachOf(groups, cpuOf), from, to);
  const s = (to - from) / 1000;
  return Object.fromEntries(Object.keys(groups).map((k) => [k, Math.round(((b[k]! - a[k]!) / s) * 100)]));
}

/**
 * CPU µs per message over a measured window: the broker by thread role (bench/proc-cpu.ts
 * `threadRoles`: `main` is the event loop that parses, authenticates, decodes, applies policy and
 * writes PUBACKs; `shk-writer` the store's writer thread; `shk-egress` the delivering thread;
 * `shk-selfcheck` the audit self-check; `helpers` V8's GC and compiler threads and libuv's pool),
 * and each process group whole (`broker`, `generator`: the publishers, `receiver`).
 */
export interface CpuPerMsg {
  threads: Record<string, number>;
  groups: Record<string, number>;
}

/** The broker's threads by role; none once it has gone (a crash is reported by the run, not here). */
const threadsOf = (pid: number): ReturnType<typeof threadRoles> => {
  try {
    return threadRoles(pid);
  } catch {
    return new Map();
  }
};

/**
 * The CPU a window cost: each group's share of a core (as `cpuMeter`) and, given how many
 * messages the window carried, its cost per message by group and by the broker's thread.
 */
export async function windowCpu(
  groups: Record<string, number[]>,
  brokerPid: number,
  from: number,
  to: number,
): Promise<{ percent: Record<string, number>; perMsg: (messages: number) => CpuPerMsg }> {
  const read = () => ({ groups: eachOf(groups, cpuOf), threads: threadsOf(brokerPid) });
  const [a, b] = await atInstants(read, from, to);
  const seconds = Object.fromEntries(Object.keys(groups).map((k) => [k, b.groups[k]! - a.groups[k]!]));
  const threads = cpuByRole(a.threads, b.threads);
  const s = (to - from) / 1000;
  // No message through in the window: no cost per message (NaN: "—" in the table, null in the JSON).
  const us = (cpuS: number, messages: number) => (messages > 0 ? Math.round((cpuS * 1e6) / messages) : NaN);
  return {
    percent: eachOf(seconds, (v) => Math.round((v / s) * 100)),
    perMsg: (messages) => ({
      threads: Object.fromEntries([...threads].map(([role, t]) => [role, us(t.s, messages)])),
      groups: eachOf(seconds, (v) => us(v, messages)),
    }),
  };
}

/** `main 80, shk-writer 60, … | generator 30, receiver 5 µs/msg`: a run's log line. */
export const perMsgWords = (c: CpuPerMsg): string =>
  `${Object.entries(c.threads)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')} | ${Object.entries(c.groups)
    .filter(([k]) => k !== 'broker')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')} µs/msg`;

export interface ThroughputResult {
  target: Target;
  /** MQTT protocol level of the cars: 4 (3.1.1) or 5. Absent in results from before it was recorded: 4. */
  protocol?: 4 | 5;
  msgsPerSec: number;
  loadAvg: [number, number];
  cars: number;
  window: number;
  measureSeconds: number;
  cpuPercent: Record<string, number>;
  brokerCpuMicrosPerMsg: number;
  /** CPU µs per acknowledged message in the window, by broker thread and by process (absent in older results). */
  cpuPerMsg?: CpuPerMsg;
  peakRssKb: number;
  publishers: PublisherStats;
  receiverGot: number;
  storeCounts?: Record<string, number>;
}

/** QoS 1 at maximum rate: every car keeps `window` publishes outstanding. */
export async function throughput(
  env: Env,
  target: Target,
  o: { cars: number; procs: number; window: number; warmupS: number; measureS: number; protocol?: 4 | 5 },
): Promise<ThroughputResult> {
  const protocol = o.protocol ?? 4;
  return withTarget(env, target, async ({ broker, receiver }) => {
    const pubs = await startPublishers(o.procs, o.cars, {
      url: broker.url,
      credsFile: env.credsFile,
      anonymous: target === 'mosquitto',
      mode: 'window',
      qos: 1,
      window: o.window,
      totalRate: 0,
      keepalive: 60,
      connectConcurrency: 50,
      protocolVersion: protocol,
    });
    const load0 = loadAvg();
    const w = windows(o.warmupS, o.measureS);
    const rss = rssSeries(broker.pid, 250);
    const cpu = windowCpu(
      { broker: [broker.pid], generator: pubs.pids, receiver: [receiver.pid] },
      broker.pid,
      w.measureFrom,
      w.measureTo,
    );
    const { stats } = await pubs.go(w);
    const { percent: cpuPercent, perMsg } = await cpu;
    const cpuPerMsg = perMsg(stats.ackedInWindow);
    const peakRssKb = Math.max(...rss.stop().map(([, kb]) => kb));
    const msgsPerSec = Math.round(stats.ackedInWindow / o.measureS);
    const got = (await receiver.report(0, 0)).received;
    env.log(
      `  throughput ${target} (MQTT ${protocol === 5 ? '5' : '3.1.1'}): ${msgsPerSec} msgs/s (cpu ${JSON.stringify(cpuPercent)}, consumer got ${got})\n` +
        `    CPU per message: ${perMsgWords(cpuPerMsg)}`,
    );
    return {
      target,
      protocol,
      msgsPerSec,
      loadAvg: [load0, loadAvg()],
      cars: pubs.connected,
      window: o.window,
      measureSeconds: o.measureS,
      cpuPercent,
      brokerCpuMicrosPerMsg: Math.round(((cpuPercent.broker! / 100) * 1e6) / Math.max(1, msgsPerSec)),
      cpuPerMsg,
      peakRssKb,
      publishers: stats,
      receiverGot: got,
    };
  });
}

export interface LatencyResult {
  target: Target;
  rate: number;
  achievedRate: number;
  sentInWindow: number;
  deliveredInWindow: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  drainWaitMs: number;
  /** Publish → PUBACK: what the car waits for (Shekara: until the record is durable). */
  ack: { p50: number | null; p99: number | null; p999: number | null };
  loadAvg: [number, number];
  /** Everything the consumer received, per second from the load's start to the end of the wait. */
  consumerPerSec: number;
  cpuPercent: Record<string, number>;
  /**
   * CPU µs per message acknowledged in the window (not sent: a broker that falls behind did not
   * handle what it was offered), by broker thread and by process (absent in older results).
   */
  cpuPerMsg?: CpuPerMsg;
  publishers: PublisherStats;
  storeCounts?: Record<string, number>;
}

/** Fixed total rate, QoS 1; latency = receiver's clock − the car's publish time in the payload. */
export async function latency(
  env: Env,
  target: Target,
  o: { cars: number; procs: number; rate: number; warmupS: number; measureS: number; drainS: number },
): Promise<LatencyResult> {
  return withTarget(env, target, async ({ broker, receiver }) => {
    const pubs = await startPublishers(o.procs, o.cars, {
      url: broker.url,
      credsFile: env.credsFile,
      anonymous: target === 'mosquitto',
      mode: 'rate',
      qos: 1,
      window: 100,
      totalRate: o.rate,
      keepalive: 60,
      connectConcurrency: 50,
    });
    const load0 = loadAvg();
    const w = windows(o.warmupS, o.measureS, 1);
    const cpu = windowCpu(
      { broker: [broker.pid], generator: pubs.pids, receiver: [receiver.pid] },
      broker.pid,
      w.measureFrom,
      w.measureTo,
    );
    const { stats, ackLatenciesMs } = await pubs.go(w);
    const { percent: cpuPercent, perMsg } = await cpu;
    const { waitFrom, rep, lat, q } = await arrivals(receiver, w, stats.sentInWindow, o.drainS);
    const acks = ackLatenciesMs.sort((a, b) => a - b);
    const aq = (p: number) => acks[Math.max(0, Math.ceil(p * acks.length) - 1)] ?? null;
    const r: LatencyResult = {
      target,
      rate: o.rate,
      ack: { p50: aq(0.5), p99: aq(0.99), p999: aq(0.999) },
      loadAvg: [load0, loadAvg()],
      achievedRate: Math.round(stats.sentInWindow / o.measureS),
      sentInWindow: stats.sentInWindow,
      deliveredInWindow: lat.length,
      p50: q(0.5),
      p99: q(0.99),
      p999: q(0.999),
      max: lat.at(-1) ?? null,
      drainWaitMs: Date.now() - waitFrom,
      cpuPercent,
      cpuPerMsg: perMsg(stats.ackedInWindow),
      publishers: stats,
      consumerPerSec: Math.round(rep.received / ((Date.now() - w.startAt) / 1000)),
    };
    env.log(
      `  latency ${target}: p50 ${r.p50} p99 ${r.p99} p99.9 ${r.p999} ms, PUBACK p50 ${r.ack.p50} p99 ${r.ack.p99} (${r.deliveredInWindow}/${r.sentInWindow} delivered, sent ${r.achievedRate}/s, cpu ${JSON.stringify(cpuPercent)})\n` +
        `    CPU per message: ${perMsgWords(r.cpuPerMsg!)}`,
    );
    return r;
  });
}

export interface MemoryResult {
  target: Target;
  connections: number;
  baselineRssKb: number;
  loadedRssKb: number;
  kbPerConnection: number;
  connectSeconds: number;
  connectErrors: number;
}

/** RSS of the broker before and after `connections` idle clients (keepalive 600 s, no traffic). */
export async function memory(
  env: Env,
  target: Target,
  o: { connections: number; procs: number },
): Promise<MemoryResult> {
  return withTarget(
    env,
    target,
    async ({ broker }) => {
      await sleep(1_000);
      const base = avgRss(broker.pid, 5);
      const t0 = Date.now();
      const pubs = await startPublishers(o.procs, o.connections, {
        url: broker.url,
        credsFile: env.credsFile,
        anonymous: target === 'mosquitto',
        mode: 'idle',
        qos: 1,
        window: 0,
        totalRate: 0,
        keepalive: 600,
        connectConcurrency: 40,
      });
      const connectSeconds = (Date.now() - t0) / 1000;
      await sleep(3_000); // let connection set-up garbage age out before reading RSS
      const loaded = await avgRssOver(broker.pid, 5, 200);
      const { stats } = await pubs.stop();
      const r: MemoryResult = {
        target,
        connections: pubs.connected,
        baselineRssKb: base,
        loadedRssKb: loaded,
        kbPerConnection: Math.round(((loaded - base) / Math.max(1, pubs.connected)) * 10) / 10,
        connectSeconds,
        connectErrors: stats.connectErrors,
      };
      env.log(
        `  memory ${target}: ${r.connections} connections, RSS ${base} → ${loaded} KB = ${r.kbPerConnection} KB/connection` +
          (r.connections < o.connections ? ` — SHORT: ${o.connections} asked, ${r.connectErrors} connect errors` : ''),
      );
      return r;
    },
    { receiver: false },
  );
}

const avgRss = (pid: number, n: number) =>
  Math.round(Array.from({ length: n }, () => sampleProc(pid)?.rssKb ?? 0).reduce((a, b) => a + b, 0) / n);
async function avgRssOver(pid: number, n: number, everyMs: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += sampleProc(pid)?.rssKb ?? 0;
    await sleep(everyMs);
  }
  return Math.round(sum / n);
}

export interface OverloadResult {
  target: Target;
  offeredRate: number;
  seconds: number;
  /** The gateway's V8 heap limit (`--max-old-space-size`, MB) in this run; absent: Node's default. */
  heapCapMb?: number;
  sent: number;
  acked: number;
  throttled: number;
  errors: number;
  disconnects: number;
  stayedUp: boolean;
  healthz: number | null;
  rssKb: { first: number; peak: number; last: number; series: [number, number][] };
  /** Whether RSS levelled off: its growth over the run's last `lastS` seconds (absent in older results). */
  rssFlat?: RssFlat;
  stored: number;
  ackedButMissing: number;
  storeCounts?: Record<string, number>;
}

export interface RssFlat {
  lastS: number;
  growthKb: number;
  /** Growth within FLAT_TOLERANCE of RSS at the window's start: memory bounded as the run showed it. */
  bounded: boolean;
}

/** RSS may grow by this share over the last window and still count as flat (sampling noise, GC timing). */
const FLAT_TOLERANCE = 0.05;

/**
 * "Bounded" as a run can show it: RSS over its last `lastMs` (the drain, when nothing new is
 * offered) grew by no more than FLAT_TOLERANCE. A peak alone cannot tell a plateau from a climb
 * cut short by the end of the run (the 2026-12-04 runs: RSS rose at every sample to 1.8 GB).
 */
export function rssFlat(series: [number, number][], lastMs: number): RssFlat {
  const end = series.at(-1) ?? [0, 0];
  const from = [...series].reverse().find(([t]) => t <= end[0] - lastMs) ?? series[0] ?? end;
  const growthKb = end[1] - from[1];
  return { lastS: Math.round((end[0] - from[0]) / 1000), growthKb, bounded: growthKb <= from[1] * FLAT_TOLERANCE };
}

/** Open loop far past capacity; afterwards every PUBACKed message must be in the store. */
export async function overload(
  env: Env,
  o: { cars: number; procs: number; rate: number; seconds: number; window: number; drainS: number; heapCapMb?: number },
): Promise<OverloadResult> {
  // With a heap cap the gateway runs as the Helm chart runs it (NODE_OPTIONS=--max-old-space-size).
  const capped = o.heapCapMb
    ? { ...env, shekaraNodeArgs: [...env.shekaraNodeArgs, `--max-old-space-size=${o.heapCapMb}`] }
    : env;
  const r = await withTarget(
    capped,
    'shekara',
    async ({ broker }) => {
      const pubs = await startPublishers(o.procs, o.cars, {
        url: broker.url,
        credsFile: env.credsFile,
        anonymous: false,
        mode: 'rate',
        qos: 1,
        window: o.window,
        totalRate: o.rate,
        keepalive: 60,
        connectConcurrency: 50,
      });
      const w = windows(0, o.seconds, 0, o.drainS);
      const rss = rssSeries(broker.pid, 500);
      const { stats } = await pubs.go(w);
      const series = rss.stop();
      const healthz = await fetch(`http://127.0.0.1:${PORTS.shekaraHttp}/healthz`).then(
        (x) => x.status,
        () => null,
      );
      return { stats, series, healthz, stayedUp: broker.crashed() === undefined };
    },
    { receiver: true, crashIsResult: true },
  );
  const stored = (r.storeCounts?.records ?? 0) + (r.storeCounts?.quarantine ?? 0);
  const kb = r.series.map(([, v]) => v);
  const out: OverloadResult = {
    target: 'shekara',
    offeredRate: o.rate,
    seconds: o.seconds,
    ...(o.heapCapMb ? { heapCapMb: o.heapCapMb } : {}),
    sent: r.stats.sent,
    acked: r.stats.acked,
    throttled: r.stats.throttled,
    errors: r.stats.errors,
    disconnects: r.stats.disconnects,
    stayedUp: r.stayedUp,
    healthz: r.healthz,
    rssKb: { first: kb[0] ?? 0, peak: Math.max(...kb), last: kb.at(-1) ?? 0, series: r.series },
    rssFlat: rssFlat(r.series, o.drainS * 1000),
    stored,
    ackedButMissing: Math.max(0, r.stats.acked - stored),
    storeCounts: r.storeCounts,
  };
  env.log(
    `  overload${o.heapCapMb ? ` (heap cap ${o.heapCapMb} MB)` : ''}: offered ${o.rate}/s for ${o.seconds} s, sent ${out.sent}, acked ${out.acked}, stored ${stored}, acked-but-missing ${out.ackedButMissing}, RSS peak ${out.rssKb.peak} KB, ${out.rssFlat!.growthKb} KB over the last ${out.rssFlat!.lastS} s (${out.rssFlat!.bounded ? 'bounded' : 'still rising'}), up ${out.stayedUp}`,
  );
  return out;
}
