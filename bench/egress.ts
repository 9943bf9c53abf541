/**
 * `npm run bench:egress` — every egress figure of docs/benchmarks.md "Egress", this build beside
 * a reference, in one run. Each part is one of the bench scripts, run as a child process:
 *
 *   latency    car → OEM p50/p99 at 5,000 msgs/s on the embedded default (QoS 1, local queue),
 *              this build, the --baseline build and Mosquitto in the same rounds (bench/run.ts)
 *   sustained  3,000 msgs/s for --duration seconds (default 600): the maximum age of the oldest
 *              undelivered outbox row, car → OEM p50/p99 (bench/run.ts; this build only)
 *   kafka      car → OEM through Kafka (ingest and delivery) and the Kafka leg alone (drain),
 *              this build and the --baseline build (bench/kafka-e2e.ts; needs deploy/kafka.sh)
 *   settle     PostgreSQL settlement by 1, 2 and 4 instances (processes) on one schema, each
 *              running the egress-log integrator (bench/store-backends.ts)
 *   log        egress-log appends/s in batches (SQLite) and the PostgreSQL integration rate and
 *              round time, i.e. the integration delay (bench/audit-append.ts)
 *
 *   npm run bench:egress -- --baseline DIR     DIR: a checkout of the previous build, `npm run build` done in it
 *   npm run bench:egress -- --quick            tiny numbers: checks that every part starts and prints (minutes)
 *   npm run bench:egress -- --only settle,log  some parts only
 *   npm run bench:egress -- --duration 120     a shorter sustained run
 *   npm run bench:egress -- --scratch          keep the report out of docs/
 *
 * Prints the table; writes docs/benchmarks/egress-<time>.json, docs/benchmarks/egress-latest.json
 * and the section between the egress markers in docs/benchmarks.md (not with --quick or --scratch:
 * then next to the work files). Needs `npm run build` (the gateway runs from dist/), PostgreSQL
 * on 127.0.0.1:5432 (database test) and, for `kafka`, Kafka on 127.0.0.1:19092.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from './procs.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  const header = /\/\*\*([\s\S]*?)\*\//.exec(readFileSync(new URL(import.meta.url), 'utf8'))?.[1] ?? '';
  process.stdout.write(header.replace(/^ \* ?/gm, '').trim() + '\n');
  process.exit(0);
}
const argOf = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = args.includes('--quick');
const scratch = quick || args.includes('--scratch');
const only = new Set((argOf('--only') ?? 'latency,sustained,kafka,settle,log').split(','));
const baseline = argOf('--baseline') ? path.resolve(argOf('--baseline')!) : undefined;
const duration = argOf('--duration') ?? (quick ? '10' : '600');
const P = quick
  ? { kafka: { TOTAL: '2000', VEHICLES_T: '20', DRAIN: '2000' }, settle: '2000', log: ['5000', '--pg', '2000'] }
  : { kafka: { TOTAL: '40000', VEHICLES_T: '100', DRAIN: '40000' }, settle: '20000', log: ['200000', '--pg', '20000'] };
if (baseline && !existsSync(path.join(baseline, 'dist'))) {
  process.stderr.write(`--baseline ${baseline}: no dist/ there (run npm run build in it first)\n`);
  process.exit(2);
}

const work = mkdtempSync(path.join(tmpdir(), 'shekara-bench-egress-'));
const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const loadNow = () => loadavg()[0]!.toFixed(1);

/** Runs one bench script; its stderr streams through, its stdout is returned. */
function run(what: string, cmd: string[], env: Record<string, string> = {}): Promise<string> {
  log(
    `${what}: ${Object.entries(env)
      .map(([k, v]) => `${k}=${v} `)
      .join('')}${cmd.join(' ')}`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...cmd], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      process.stderr.write(b);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${what} exited ${code}`))));
  });
}

interface Row {
  figure: string;
  build: string;
  reference: string;
  aim: string;
}
const rows: Row[] = [];
const raw: Record<string, unknown> = {};
const errors: string[] = [];
const attempt = async (what: string, f: () => Promise<void>) => {
  const load = loadNow();
  try {
    await f();
  } catch (err) {
    errors.push(`${what}: ${(err as Error).message}`);
    log(`${what} FAILED: ${(err as Error).message}`);
  }
  log(`${what}: load average ${load} → ${loadNow()}`);
};
const n = (x: number | null | undefined, d = 0) =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: d });
const ms = (x: number | null | undefined) => (x === null ? 'not delivered in time' : `${n(x)} ms`);

interface Lat {
  target: string;
  rate: number;
  achievedRate: number;
  sentInWindow: number;
  deliveredInWindow: number;
  p50: number | null;
  p99: number | null;
  loadAvg: [number, number];
}
/** The worst round: a percentile not reached (null) is worse than any figure. */
const worst = (xs: Lat[]) =>
  xs.reduce<Lat | undefined>(
    (w, x) => (!w || (w.p99 !== null && (x.p99 === null || x.p99 > w.p99)) ? x : w),
    undefined,
  );
const latCell = (x: Lat | undefined) =>
  x
    ? `p50 ${ms(x.p50)} / p99 ${ms(x.p99)}; ${n(x.deliveredInWindow)} of ${n(x.sentInWindow)} delivered (sent ${n(x.achievedRate)}/s; load ${x.loadAvg.join(' → ')})`
    : 'not run';

if (only.has('latency') || only.has('sustained')) {
  await attempt('latency/sustained', async () => {
    const json = path.join(work, 'run.json');
    const parts = ['latency', 'sustained'].filter((p) => only.has(p)).join(',');
    await run('bench/run.ts', [
      'bench/run.ts',
      '--only',
      parts,
      '--scratch',
      '--json',
      json,
      '--duration',
      duration,
      ...(quick ? ['--quick'] : []),
      ...(baseline ? ['--baseline', baseline] : []),
    ]).catch((err: Error) => {
      if (!existsSync(json)) throw err; // a failed round is in the JSON's errors; the others still count
    });
    const r = JSON.parse(readFileSync(json, 'utf8')) as {
      latency: Lat[];
      latencyBaseline?: Lat[];
      sustained?: {
        rate: number;
        seconds: number;
        sentInWindow: number;
        deliveredInWindow: number;
        p50: number | null;
        p99: number | null;
        maxOldestAgeS: number;
        finalOldestAgeS: number;
        achievedRate: number;
        disconnects?: number;
        loadAvg: [number, number];
      };
      errors: string[];
    };
    raw.run = r;
    errors.push(...r.errors);
    if (only.has('latency')) {
      const rate = r.latency[0]?.rate ?? 0;
      rows.push({
        figure: `car → OEM at ${n(rate)} msgs/s, embedded default (worst of the rounds)`,
        build: latCell(worst(r.latency.filter((x) => x.target === 'shekara'))),
        reference: [
          baseline
            ? `previous build: ${latCell(worst(r.latencyBaseline ?? []))}`
            : 'previous build: not run (--baseline)',
          `Mosquitto: ${latCell(worst(r.latency.filter((x) => x.target === 'mosquitto')))}`,
        ].join('<br>'),
        aim: 'p99 ≤ 50 ms, every message delivered',
      });
    }
    const s = r.sustained;
    if (only.has('sustained'))
      rows.push({
        figure: `sustained ${n(s?.rate)} msgs/s for ${n(s?.seconds)} s: oldest undelivered row`,
        build: s
          ? `max ${n(s.maxOldestAgeS, 1)} s (at the end ${n(s.finalOldestAgeS, 1)} s); ${n(s.deliveredInWindow)} of ${n(s.sentInWindow)} delivered (cars sent ${n(s.achievedRate)}/s; ${n(s.disconnects)} disconnects, cars reconnect), p50 ${ms(s.p50)} / p99 ${ms(s.p99)} (load ${s.loadAvg.join(' → ')})`
          : 'failed',
        reference: '—',
        aim: 'bounded',
      });
  });
}

if (only.has('kafka')) {
  const kafkaRow = async (gateway: string | undefined) => {
    const out = await run('bench/kafka-e2e.ts', ['bench/kafka-e2e.ts'], {
      ONLY: 'throughput,drain',
      ...P.kafka,
      ...(gateway ? { GATEWAY: gateway, LABEL: 'previous build' } : {}),
    });
    const rate = (what: string) => {
      const line = out.split('\n').find((l) => l.startsWith(what)) ?? '';
      return { line, perSec: Number(/(\d+) records\/s/.exec(line)?.[1] ?? NaN) };
    };
    return { throughput: rate('throughput'), drain: rate('drain'), out };
  };
  await attempt('kafka', async () => {
    const mine = await kafkaRow(undefined);
    const ref = baseline ? await kafkaRow(path.join(baseline, 'bin/shekara.js')).catch((e: Error) => e) : undefined;
    raw.kafka = { build: mine.out, baseline: ref instanceof Error ? ref.message : ref?.out };
    const cell = (x: { perSec: number } | undefined) => (x ? `${n(x.perSec)} records/s` : 'not run');
    const refCell = (k: 'throughput' | 'drain') =>
      ref === undefined ? 'not run (--baseline)' : ref instanceof Error ? ref.message : cell(ref[k]);
    rows.push({
      figure: 'car → OEM through Kafka (ingest, relay, consumers, batched POSTs)',
      build: cell(mine.throughput),
      reference: `previous build: ${refCell('throughput')}`,
      aim: '≥ 20,000 records/s',
    });
    rows.push({
      figure: 'the Kafka leg alone (stored records drained to the OEM)',
      build: cell(mine.drain),
      reference: `previous build: ${refCell('drain')}`,
      aim: '',
    });
  });
}

if (only.has('settle')) {
  await attempt('settle', async () => {
    const json = path.join(work, 'settle.json');
    await run('bench/store-backends.ts', ['bench/store-backends.ts', P.settle, '--instances', '1,2,4', '--json', json]);
    const r = JSON.parse(readFileSync(json, 'utf8')) as {
      instances: {
        instances: number;
        integratedRate: number;
        settleRate: number;
        maxIntegrationDelayMs: number;
        consecutive: boolean;
      }[];
    };
    raw.settle = r;
    const one = r.instances[0]!.integratedRate;
    rows.push({
      figure: `PostgreSQL settlement, ${r.instances.map((x) => x.instances).join(' / ')} instances (processes), settled and integrated`,
      build: r.instances
        .map(
          (x) =>
            `${n(x.integratedRate)}/s (× ${n(x.integratedRate / one, 2)}; longest integration delay ${n(x.maxIntegrationDelayMs)} ms${x.consecutive ? '' : '; LEAVES NOT CONSECUTIVE'})`,
        )
        .join('<br>'),
      reference: '—',
      aim: '≥ 1.7 × at 2 instances',
    });
  });
}

if (only.has('log')) {
  await attempt('log', async () => {
    const out = await run('bench/audit-append.ts', ['bench/audit-append.ts', ...P.log]);
    raw.log = out;
    const append = /= (\d+) leaves\/s/.exec(out)?.[1];
    const integ = /= (\d+) entries\/s; a full round took (\d+) ms/.exec(out);
    rows.push({
      figure: 'egress-log appends, SQLite, 512 per transaction (synchronous=FULL)',
      build: `${n(Number(append))}/s`,
      reference: '—',
      aim: '≥ 50,000/s',
    });
    rows.push({
      figure: 'PostgreSQL integration: entries/s, and a full round of 5,000 (the integration delay bound)',
      build: integ ? `${n(Number(integ[1]))}/s; full round ${n(Number(integ[2]))} ms` : 'not printed',
      reference: '—',
      aim: 'bound stated in docs/audit.md',
    });
  });
}

const started = new Date();
const table = [
  `Egress bench ${quick ? '(quick: checks only, not figures) ' : ''}${started.toISOString().slice(0, 16).replace('T', ' ')} UTC; build under test: ${REPO}${baseline ? `; previous build: ${baseline}` : ''}.`,
  '',
  '| figure | this build | reference | aim |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.figure} | ${r.build} | ${r.reference} | ${r.aim} |`),
  ...(errors.length ? ['', '**Failed parts:**', '', ...errors.map((e) => `- ${e}`)] : []),
].join('\n');
process.stdout.write(`\n${table}\n`);

const docs = scratch ? path.join(work, 'docs') : path.join(REPO, 'docs');
mkdirSync(path.join(docs, 'benchmarks'), { recursive: true });
const json = JSON.stringify({ startedAt: started.toISOString(), quick, baseline, rows, errors, raw }, null, 2);
writeFileSync(
  path.join(docs, 'benchmarks', `egress-${started.toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`),
  json,
);
writeFileSync(path.join(docs, 'benchmarks', 'egress-latest.json'), json);
const START = '<!-- bench:egress:start (generated by npm run bench:egress; edits here are overwritten) -->';
const END = '<!-- bench:egress:end -->';
const mdFile = path.join(docs, 'benchmarks.md');
const md = existsSync(mdFile) ? readFileSync(mdFile, 'utf8') : '# Benchmarks\n';
const a = md.indexOf(START);
const b = md.indexOf(END);
const section = `${START}\n${table}\n${END}`;
writeFileSync(mdFile, a >= 0 && b > a ? md.slice(0, a) + section + md.slice(b + END.length) : `${md}\n${section}\n`);
log(`wrote ${mdFile} and ${path.join(docs, 'benchmarks', 'egress-latest.json')}`);
if (errors.length) process.exitCode = 1;
