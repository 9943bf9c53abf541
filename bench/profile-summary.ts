/**
 * Summarises V8 .cpuprofile files of the gateway (from `node --cpu-prof`, see `npm run bench --
 * --profile`, which writes one file per thread of each Shekara run): self time by stage of the
 * hot path, by area (package or gateway module) and by function, so "what limits throughput" is
 * answered with numbers.
 *
 *   node --import tsx bench/profile-summary.ts [--window S | --all] [--top N] [--stages egress] FILE.cpuprofile|DIR ...
 *
 * A directory stands for its .cpuprofile files. Each file is read over its busiest S seconds
 * (default 10: the most non-idle samples; `--all`: the whole profile, start-up and connects
 * included). Files of one process (the pid in the name node gives them) are printed together, the
 * stage table with a column per thread: main (the event loop), writer, egress, self-check.
 * `--stages egress`: the egress side's stages instead of ingest's (bench/profile-egress.ts: HTTP
 * client, signing, outbox reads and settles, egress-log staging, Merkle hashing, BEGIN/COMMIT, …),
 * for the egress and writer threads and for bench/audit-append.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EGRESS_STAGES, egressStageOf } from './profile-egress.js';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Node {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * The stages of the hot path a sample is charged to, in the order tables list them. parse: socket
 * data through mqtt-packet's parser and the connection's dispatch; auth: CONNECT's credential check
 * and, per PUBLISH, the endpoint's access checks (own topic, rate, Receive Maximum) in `onPublish`;
 * intake: the record's id and object and the promise glue (intake.ts); decode: strict JSON and the
 * catalog's decoder; policy: evaluation, shapes, delivery ids; store/writer: the group commit and
 * its hand-over to the writer thread, and the writer's statements; PUBACK write: acknowledgements
 * built and written; egress, audit: the delivering and self-check threads' own work; GC: V8's
 * collector on that thread; other: samples with no gateway or library frame that says (node's
 * timers, stream plumbing, `(program)`).
 */
export const STAGES = [
  'parse',
  'auth',
  'intake',
  'decode',
  'policy',
  'store/writer',
  'PUBACK write',
  'egress',
  'audit',
  'GC',
  'other',
] as const;
export type Stage = (typeof STAGES)[number];

/** Where a gateway module lives in dist/ (or src/ under tsx), without the extension. */
const modOf = (url: string): string | undefined => {
  const m = /\/(?:dist|src)\/(.+)\.[jt]s$/.exec(url);
  return m?.[1];
};

/** Functions of the MQTT connection that put acknowledgements on the wire; the rest reads and dispatches. */
const CONNECTION_WRITES = new Set(['fill', 'flushAcks', 'write', 'end', 'sendCommand']);

/**
 * The stage one frame belongs to, or undefined when it says nothing (node's own modules, native
 * built-ins, anonymous glue): the caller then looks at the frame that called it.
 */
export function stageOfFrame(f: CallFrame): Stage | undefined {
  const fn = f.functionName;
  if (fn === '(garbage collector)') return 'GC';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(f.url);
  if (pkg) {
    const [, name, file] = pkg;
    if (name === 'mqtt-packet') return /generate|writeToStream|numbers/.test(file!) ? 'PUBACK write' : 'parse';
    if (name === 'bl' || name === 'process-nextick-args') return 'parse';
    if (name === 'better-sqlite3' || name === 'pg') return 'store/writer';
    if (name === 'undici') return 'egress';
    return undefined;
  }
  const mod = modOf(f.url);
  if (mod === undefined) return undefined;
  if (mod === 'ingest/mqtt/connection') return CONNECTION_WRITES.has(fn) ? 'PUBACK write' : 'parse';
  if (mod === 'ingest/mqtt/wire') return 'PUBACK write';
  if (mod === 'ingest/packet-guard' || mod === 'ingest/mqtt/server') return 'parse';
  if (mod === 'ingest/mqtt/publish') return fn === 'store' ? 'intake' : 'auth';
  if (/^ingest\/(mqtt\/(connect|session|qos2|subscribe|acks)|credentials|rate-limit)$/.test(mod)) return 'auth';
  if (mod === 'ingest/intake' || mod === 'ingest/pushback' || mod === 'ids' || mod === 'record') return 'intake';
  if (mod === 'decoder' || mod === 'json-strict' || mod.startsWith('catalog/')) return 'decode';
  if (mod.startsWith('policy/')) return 'policy';
  if (mod.startsWith('store/') || mod === 'ingest/committer') return 'store/writer';
  if (mod.startsWith('egress/')) return 'egress';
  if (mod.startsWith('audit/')) return 'audit';
  return undefined;
}

/** A way to charge samples: its stages in table order, and the stage of one frame (`own`: the sample's own). */
export interface StageScheme {
  readonly stages: readonly string[];
  stageOf(f: CallFrame, own: boolean): string | undefined;
}
/** The hot path of ingest (the default). */
export const INGEST_STAGES: StageScheme = { stages: STAGES, stageOf: (f) => stageOfFrame(f) };
/** The egress side (`--stages egress`). */
export const EGRESS: StageScheme = { stages: EGRESS_STAGES, stageOf: egressStageOf };

/** The thread a profile is of, from what ran in it. */
export function threadOf(p: Profile): string {
  const urls = p.nodes.map((n) => n.callFrame.url);
  if (urls.some((u) => /ingest-writer\.worker/.test(u))) return 'writer';
  if (urls.some((u) => /egress\/thread-main/.test(u))) return 'egress';
  if (urls.some((u) => /self-check\.worker/.test(u))) return 'self-check';
  return 'main';
}

export interface Summary {
  thread: string;
  /** Sampled µs in the window read, idle included, and of it not idle. */
  windowUs: number;
  busyUs: number;
  /** The whole profile's length (µs). */
  spanUs: number;
  byStage: Map<string, number>;
  byArea: Map<string, number>;
  byFunction: Map<string, number>;
  /** What each stage holds, by function: so a reader can check the charging, and see what `other` is. */
  byStageFunction: Map<string, Map<string, number>>;
}

const add = <K>(m: Map<K, number>, k: K, v: number) => m.set(k, (m.get(k) ?? 0) + v);

/** Where a frame's code lives: a package, the gateway's module, node's own, or V8's (GC, idle, program). */
const areaOf = (f: CallFrame) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url);
  if (m) return m[1]!;
  const mod = modOf(f.url);
  if (mod) return `shekara ${mod}`;
  if (f.url.startsWith('node:')) return f.url;
  return `(${f.functionName || 'native'})`;
};
const fnOf = (f: CallFrame) =>
  `${f.functionName || '(anonymous)'}  ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${f.lineNumber + 1}`;

/** The profile's nodes by id, each with its parent, and a sample's time (µs, the process's monotonic clock). */
function index(p: Profile) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const t: number[] = [];
  let now = p.startTime;
  for (const d of p.timeDeltas) t.push((now += d));
  /** Whether a frame matching `test` is on the node's stack (itself or a caller). */
  const under = (id: number, test: (f: CallFrame) => boolean): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      if (test(byId.get(at)!.callFrame)) return true;
    return false;
  };
  const idle = (id: number) => byId.get(id)!.callFrame.functionName === '(idle)';
  return { byId, parent, t, under, idle };
}

/** A sample handling an inbound PUBLISH (its stack holds the endpoint's handler): the measure of ingest. */
const handlingPublish = (f: CallFrame) => f.functionName === 'onPublish' && modOf(f.url) === 'ingest/mqtt/publish';

/**
 * The `windowS` seconds of the profile (from, to: its clock, µs) with the most samples that
 * handle a PUBLISH, or, in a thread that handles none, the most non-idle samples: the max-rate
 * phase of a bench run, past start-up and the cars' connects.
 */
export function busiestWindow(p: Profile, windowS: number): [number, number] {
  const { t, under, idle } = index(p);
  const handles = p.samples.some((id) => under(id, handlingPublish));
  const counts = (id: number) => (handles ? under(id, handlingPublish) : !idle(id));
  const memo = new Map<number, boolean>();
  const weight = (i: number) => {
    const id = p.samples[i]!;
    if (!memo.has(id)) memo.set(id, counts(id));
    return memo.get(id)! ? p.timeDeltas[i]! : 0;
  };
  const w = windowS * 1e6;
  let best = -1,
    sum = 0,
    lo = 0,
    out: [number, number] = [p.startTime, p.endTime];
  for (let hi = 0; hi < p.samples.length; hi++) {
    sum += weight(hi);
    // A sample stands for the time since the one before it: (t - delta, t].
    while (t[hi]! - (t[lo]! - p.timeDeltas[lo]!) > w) sum -= weight(lo++);
    if (sum > best) [best, out] = [sum, [t[lo]! - p.timeDeltas[lo]!, t[hi]!]];
  }
  return out;
}

/**
 * Self time by stage, area and function of the samples in (`from`, `to`] (the profile's clock,
 * µs; the whole profile when absent). A sample is charged to the stage of its nearest frame that has one
 * (a `Buffer.concat` under the MQTT parser is parse; a socket write under `flushAcks` is PUBACK
 * write); a sample with none on its stack is `other`. Idle samples count in the window only.
 */
export function summarise(p: Profile, window?: [number, number], scheme: StageScheme = INGEST_STAGES): Summary {
  const { byId, parent, t, idle } = index(p);
  const stageCache = new Map<number, string>();
  const stageOf = (id: number): string => {
    const hit = stageCache.get(id);
    if (hit) return hit;
    let s: string | undefined;
    for (let at: number | undefined = id; at !== undefined && !s; at = parent.get(at))
      s = scheme.stageOf(byId.get(at)!.callFrame, at === id);
    stageCache.set(id, s ?? 'other');
    return s ?? 'other';
  };
  const [from, to] = window ?? [-Infinity, Infinity];
  const out: Summary = {
    thread: threadOf(p),
    windowUs: 0,
    busyUs: 0,
    spanUs: p.endTime - p.startTime,
    byStage: new Map(scheme.stages.map((s) => [s, 0])),
    byArea: new Map(),
    byFunction: new Map(),
    byStageFunction: new Map(),
  };
  for (let i = 0; i < p.samples.length; i++) {
    if (t[i]! <= from || t[i]! > to) continue;
    const id = p.samples[i]!;
    const us = p.timeDeltas[i]!;
    out.windowUs += us;
    if (idle(id)) continue;
    out.busyUs += us;
    const f = byId.get(id)!.callFrame;
    const stage = stageOf(id);
    add(out.byStage, stage, us);
    add(out.byArea, areaOf(f), us);
    add(out.byFunction, fnOf(f), us);
    if (!out.byStageFunction.has(stage)) out.byStageFunction.set(stage, new Map());
    add(out.byStageFunction.get(stage)!, fnOf(f), us);
  }
  return out;
}

const top = <K>(m: Map<K, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
const pct = (us: number, of: number) => `${((us / Math.max(1, of)) * 100).toFixed(1)} %`;

/** The stage table of one process's threads, in markdown: share of each thread's busy time, and its CPU ms. */
export function stageTable(threads: Summary[], stages: readonly string[] = STAGES): string {
  const head = `| stage | ${threads.map((s) => `${s.thread} thread`).join(' | ')} |`;
  const rows = [head, `| --- | ${threads.map(() => '---:').join(' | ')} |`];
  for (const stage of stages) {
    if (threads.every((s) => (s.byStage.get(stage) ?? 0) === 0)) continue;
    rows.push(
      `| ${stage} | ${threads.map((s) => `${pct(s.byStage.get(stage) ?? 0, s.busyUs)} (${((s.byStage.get(stage) ?? 0) / 1000).toFixed(0)} ms)`).join(' | ')} |`,
    );
  }
  rows.push(
    `| busy / window | ${threads.map((s) => `${pct(s.busyUs, s.windowUs)} of ${(s.windowUs / 1e6).toFixed(1)} s`).join(' | ')} |`,
  );
  return rows.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string) => (args.includes(name) ? args.splice(args.indexOf(name), 2)[1] : undefined);
  const all = args.includes('--all') ? (args.splice(args.indexOf('--all'), 1), true) : false;
  const windowS = all ? undefined : Number(opt('--window') ?? 10);
  const n = Number(opt('--top') ?? 15);
  const stages = opt('--stages') ?? 'ingest';
  const scheme = stages === 'egress' ? EGRESS : stages === 'ingest' ? INGEST_STAGES : undefined;
  if (args.length === 0 || !scheme) {
    process.stderr.write(
      'usage: profile-summary.ts [--window S | --all] [--top N] [--stages ingest|egress] FILE.cpuprofile|DIR ...\n',
    );
    process.exit(2);
  }
  const files = args.flatMap((a) =>
    statSync(a).isDirectory()
      ? readdirSync(a)
          .filter((f) => f.endsWith('.cpuprofile'))
          .sort()
          .map((f) => path.join(a, f))
      : [a],
  );
  // node names them CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: one process's threads together.
  const byPid = new Map<string, string[]>();
  for (const f of files) {
    const pid = /^CPU\.\d+\.\d+\.(\d+)\./.exec(path.basename(f))?.[1] ?? f;
    byPid.set(pid, [...(byPid.get(pid) ?? []), f]);
  }
  for (const [pid, group] of byPid) {
    const profiles = group.map((f) => ({ f, p: JSON.parse(readFileSync(f, 'utf8')) as Profile }));
    const order = ['main', 'writer', 'egress', 'self-check'];
    profiles.sort((a, b) => order.indexOf(threadOf(a.p)) - order.indexOf(threadOf(b.p)));
    // One window for every thread of the process, chosen on the first (the main thread when it is
    // there): the profiles of one process share its clock.
    const window = windowS === undefined ? undefined : busiestWindow(profiles[0]!.p, windowS);
    const sums = profiles.map(({ f, p }) => ({ f, s: summarise(p, window, scheme) }));
    const w =
      windowS === undefined
        ? 'whole profile'
        : `the ${windowS} s of the ${sums[0]!.s.thread} thread with the most PUBLISH handling, every thread`;
    process.stdout.write(`\n## process ${pid} (${w})\n\nself time by stage, share of each thread's busy time:\n\n`);
    process.stdout.write(
      `${stageTable(
        sums.map((x) => x.s),
        scheme.stages,
      )}\n`,
    );
    for (const { f, s } of sums) {
      process.stdout.write(
        `\n### ${s.thread} thread: ${path.basename(f)}, ${(s.spanUs / 1e6).toFixed(1)} s profiled\n\nby area:\n`,
      );
      for (const [k, us] of top(s.byArea, n)) process.stdout.write(`  ${pct(us, s.busyUs).padStart(7)}  ${k}\n`);
      process.stdout.write('by function (self time):\n');
      for (const [k, us] of top(s.byFunction, n)) process.stdout.write(`  ${pct(us, s.busyUs).padStart(7)}  ${k}\n`);
      process.stdout.write('by stage, its largest functions:\n');
      for (const stage of scheme.stages) {
        const fns = s.byStageFunction.get(stage);
        if (!fns) continue;
        process.stdout.write(`  ${stage} ${pct(s.byStage.get(stage)!, s.busyUs)}:\n`);
        for (const [k, us] of top(fns, 6)) process.stdout.write(`  ${pct(us, s.busyUs).padStart(9)}  ${k}\n`);
      }
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
