/**
 * Processes the benchmark runs and watches: the two brokers under test, the publisher and
 * receiver children, and /proc sampling (RSS and CPU time) of any of them by pid.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSecondsOf } from './proc-cpu.js';
import type { PublisherDone, PublisherGo, PublisherJob, PublisherStats } from './publisher.js';
import type { ReceiverJob, ReceiverReport } from './receiver.js';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(BENCH_DIR, '..');
export const PORTS = {
  mosquitto: 18830,
  shekaraMqtt: 18831,
  shekaraHttp: 18832,
  sink: 18833,
  shekaraGbt: 18834,
  /** Held by a bench run from start to end (`benchLock`): one run at a time on this machine. */
  lock: 18839,
} as const;

/**
 * Fails when something already listens on `port`. The bench's ports are fixed, and a broker
 * that cannot bind one exits while another process's listener answers `waitForPort`: the run
 * would then measure (or flood) whatever else listens there, e.g. another checkout's bench.
 */
export function assertFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (err) =>
      reject(new Error(`127.0.0.1:${port} is already in use (another bench run?): ${(err as Error).message}`)),
    );
    s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
  });
}

/**
 * One bench run at a time on this machine, whichever checkout it runs from: the run listens on
 * `port` until it exits (the kernel frees it even after a crash); a second run waits for it,
 * saying so every `everyMs`, instead of sharing the brokers' fixed ports with the first.
 */
export async function benchLock(port: number, log: (line: string) => void, everyMs = 5_000): Promise<Server> {
  for (let waited = false; ; waited = true) {
    const s = createServer();
    const held = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (held) {
      s.unref(); // holds the port, never the process
      if (waited) log(`127.0.0.1:${port} free: this run goes on`);
      return s;
    }
    log(`another bench run holds 127.0.0.1:${port}; waiting for it to end`);
    await sleep(everyMs);
  }
}

export interface Broker {
  readonly name: 'shekara' | 'mosquitto';
  readonly pid: number;
  readonly url: string;
  /** Set when the process ended by itself (a crash), before we asked it to stop. */
  readonly crashed: () => { code: number | null; signal: string | null } | undefined;
  stop(): Promise<{ code: number | null; signal: string | null }>;
}

/** `ulimit -n` raised to the hard limit: 10,000 sockets need 10,000 descriptors. */
function spawnWithFdLimit(cmd: string, args: string[], logFile: string): ChildProcess {
  const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('sh', ['-c', `ulimit -n "$(ulimit -Hn)"; exec ${quoted} 2>>'${logFile}'`], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

// Brokers are not our IPC children: if the bench dies (an error, Ctrl-C), end them too, so no
// gateway or Mosquitto is left holding the bench ports.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

function watch(child: ChildProcess, name: Broker['name'], url: string): Broker {
  live.add(child);
  child.once('exit', () => live.delete(child));
  let exit: { code: number | null; signal: string | null } | undefined;
  let stopping = false;
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  return {
    name,
    pid: child.pid!,
    url,
    crashed: () => (stopping ? undefined : exit),
    async stop() {
      stopping = true;
      if (!exit) child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const r = await exited;
      clearTimeout(kill);
      return r;
    },
  };
}

export async function startMosquitto(logFile: string): Promise<Broker> {
  await assertFree(PORTS.mosquitto);
  const child = spawnWithFdLimit('mosquitto', ['-c', path.join(BENCH_DIR, 'mosquitto.conf')], logFile);
  await listeningOrKilled(PORTS.mosquitto, child);
  return watch(child, 'mosquitto', `mqtt://127.0.0.1:${PORTS.mosquitto}`);
}

/** Writes the gateway's bench config (limits raised so the car and per-address rate limits are not what we measure). */
export function writeShekaraConfig(dir: string, over: { egressConcurrency: number; oemBatch?: number }): string {
  const file = path.join(dir, 'shekara.yaml');
  writeFileSync(
    file,
    `dataDir: ${JSON.stringify(dir)}
mqtt: { host: 127.0.0.1, port: ${PORTS.shekaraMqtt} }
http: { host: 127.0.0.1, port: ${PORTS.shekaraHttp} }
# Every bench car connects from 127.0.0.1: the per-address connect rate (100/s after a burst of
# 2,000) would otherwise cap the 10,000-connection memory run at ~4,500 within its wait.
limits: { messagesPerSecond: 1000000, messageBurst: 1000000, keepaliveMaxSeconds: 3600, connectionsPerAddressPerSecond: 1000000, connectionBurstPerAddress: 1000000 }
# GB/T 32960 terminals (bench/gbt-publisher.ts) on loopback; idle in the MQTT runs.
gbt32960: { enabled: true, tcp: { enabled: true, host: 127.0.0.1, port: ${PORTS.shekaraGbt}, allowFrom: [127.0.0.1/32] } }
egress: { concurrency: ${over.egressConcurrency} }
oems:
  - id: bench-oem
    endpoint: http://127.0.0.1:${PORTS.sink}/oem/v1/telemetry
    allowPrivateNetworks: true   # the stand-in OEM sink is on loopback; deny by default otherwise
    policyFile: ${JSON.stringify(path.join(BENCH_DIR, 'fixtures/bench-oem.yaml'))}${
      over.oemBatch ? `\n    batch: { maxRecords: ${over.oemBatch}, maxWaitMs: 5 }` : ''
    }
log: { level: warn }
`,
  );
  return file;
}

/** `repo`: the checkout whose build runs (another one: a previous build, side by side). */
export async function startShekara(
  configFile: string,
  logFile: string,
  nodeArgs: string[] = [],
  repo = REPO,
): Promise<Broker> {
  for (const port of [PORTS.shekaraMqtt, PORTS.shekaraHttp, PORTS.shekaraGbt]) await assertFree(port);
  const child = spawnWithFdLimit(
    process.execPath,
    [...nodeArgs, path.join(repo, 'bin/shekara.js'), 'start', '-c', configFile],
    logFile,
  );
  await listeningOrKilled(PORTS.shekaraHttp, child); // HTTP listens last: the gateway is fully up
  return watch(child, 'shekara', `mqtt://127.0.0.1:${PORTS.shekaraMqtt}`);
}

/**
 * Waits until `child` listens on `port`. A broker that does not (too slow to start, stuck) is
 * killed before the error goes up: the bench catches a part's error and goes on, and a broker
 * left running would hold the bench ports and fail every later start with "already in use".
 */
export async function listeningOrKilled(port: number, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  try {
    await waitForPort(port, child, timeoutMs);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    throw err;
  }
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null)
      throw new Error(`${child.spawnfile} exited with ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** RSS in KB and CPU seconds (user + system) of a process, from /proc. */
export function sampleProc(pid: number): { rssKb: number; cpuSeconds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { rssKb, cpuSeconds: cpuSecondsOf(pid) };
  } catch {
    return undefined; // the process has gone
  }
}

/** 1-minute load average: how busy the shared machine was around a run. */
export const loadAvg = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

export const cpuOf = (pids: number[]): number => pids.reduce((s, p) => s + (sampleProc(p)?.cpuSeconds ?? 0), 0);

/** Samples a pid's RSS every `everyMs` until stopped; returns [msSinceStart, rssKb] pairs. */
export function rssSeries(pid: number, everyMs: number): { stop: () => [number, number][] } {
  const t0 = Date.now();
  const series: [number, number][] = [];
  const tick = () => {
    const s = sampleProc(pid);
    if (s) series.push([Date.now() - t0, s.rssKb]);
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      return series;
    },
  };
}

const forkTs = (file: string): ChildProcess =>
  fork(path.join(BENCH_DIR, file), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

function nextMessage<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', on);
      reject(
        new Error(
          `no "${type}" from ${path.basename(child.spawnargs.at(-1) ?? '')} pid ${child.pid} in ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const on = (m: { type: string }) => {
      if (m.type === 'failed') {
        clearTimeout(timer);
        child.off('message', on);
        reject(new Error(JSON.stringify(m)));
      }
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

export interface Publishers {
  readonly pids: number[];
  readonly connected: number;
  go(go: PublisherGo): Promise<PublisherDone>;
  stop(): Promise<PublisherDone>;
}

/**
 * Forks `procs` publishers sharing `cars` cars and resolves once they have all connected.
 * `script`: publisher.ts (MQTT cars) or gbt-publisher.ts (GB/T 32960 terminals), same messages.
 */
export async function startPublishers(
  procs: number,
  cars: number,
  job: Omit<PublisherJob, 'from' | 'to' | 'rate'> & { totalRate: number },
  script = 'publisher.ts',
): Promise<Publishers> {
  const per = Math.ceil(cars / procs);
  const children = Array.from({ length: procs }, () => forkTs(script));
  const connected = children.map((c, i) => {
    const from = i * per;
    const to = Math.min(cars, from + per);
    c.send({ type: 'job', job: { ...job, from, to, rate: (job.totalRate * (to - from)) / cars } });
    return nextMessage<{ stats: PublisherStats }>(c, 'connected', 180_000);
  });
  const n = (await Promise.all(connected)).reduce((s, m) => s + m.stats.connected, 0);
  const collect = async (msg: object, timeoutMs: number) => {
    const done = children.map((c) => nextMessage<PublisherDone>(c, 'done', timeoutMs));
    for (const c of children) c.send(msg);
    const all = await Promise.all(done);
    return { stats: sumStats(all.map((d) => d.stats)), ackLatenciesMs: all.flatMap((d) => d.ackLatenciesMs) };
  };
  return {
    pids: children.map((c) => c.pid!),
    connected: n,
    go: (go) => collect({ type: 'go', go }, go.endAt - Date.now() + go.drainMs + 60_000),
    stop: () => collect({ type: 'stop' }, 60_000),
  };
}

function sumStats(all: PublisherStats[]): PublisherStats {
  const out = { ...all[0]! };
  for (const s of all.slice(1)) for (const k of Object.keys(out) as (keyof PublisherStats)[]) out[k] += s[k];
  return out;
}

export interface Receiver {
  readonly pid: number;
  report(from: number, to: number): Promise<ReceiverReport>;
  stop(): Promise<void>;
}

export async function startReceiver(job: ReceiverJob): Promise<Receiver> {
  const child = forkTs('receiver.ts');
  const ready = nextMessage(child, 'ready', 20_000);
  child.send({ type: 'job', job });
  await ready;
  return {
    pid: child.pid!,
    async report(from, to) {
      const r = nextMessage<{ report: ReceiverReport }>(child, 'report', 30_000);
      child.send({ type: 'report', from, to });
      return (await r).report;
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
      }),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
