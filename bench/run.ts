/**
 * `npm run bench` — Shekara side by side with Mosquitto, in one run.
 *
 *   npm run bench                      the full suite (~10 minutes on 2 cores)
 *   npm run bench -- --quick           a smoke run with small numbers (~2 minutes)
 *   npm run bench -- --only throughput,latency   some scenarios only
 *   npm run bench -- --only gbt32960  GB/T 32960 terminals beside the MQTT path (frames stored/s, per core)
 *   npm run bench -- --profile         every Shekara run also writes a V8 CPU profile per thread
 *                                      (diagnosis only); node --import tsx bench/profile-summary.ts DIR
 *                                      gives self time by stage of the hot path and by thread
 *   npm run bench -- --only latency --rate 500 --scratch   one latency point, report kept out of docs/
 *   npm run bench -- --keep            keep each run's store and broker log in the temp work dir
 *   npm run bench -- --only throughput,latency --baseline DIR --scratch   also the gateway built in
 *                                      checkout DIR (a previous build), in the same rounds, side by side
 *   npm run bench -- --only sustained --duration 600 --sustained-rate 3000   car → OEM for a long
 *                                      time; the maximum age of the oldest undelivered row
 *   npm run bench -- --json FILE       also the raw results in FILE (bench/egress.ts reads them)
 *   npm run bench -- --only overload --heap-cap 1536   overload runs twice, with Node's default heap
 *                                      limit and with the gateway's capped at this many MB (default
 *                                      1536, what the Helm chart sets for its default 2 GiB limit)
 *   npm run bench -- --only latency --batch 256 --scratch   the bench OEM takes batched push
 *                                      (up to 256 records per POST, maxWaitMs 5) instead of one
 *                                      POST per record (the default, and what the published runs use)
 *   npm run bench -- --help            this text
 *
 * One run at a time on a machine: a run holds 127.0.0.1:18839 and a second one waits for it.
 *
 * Run on their own, not by this command (each prints its own figure; see docs/benchmarks.md):
 *   node --import tsx bench/policy-eval.ts [seconds]   policy evaluation, records/s on one core
 *   node --import tsx bench/policy-eval.ts --smoke     the same on 1,000 records: proves it runs
 *   node --import tsx bench/writer.ts [--baseline DIR]   the SQLite writer thread alone: its busy
 *                                      and CPU µs per ingested record, beside the build in DIR
 *
 * Writes docs/benchmarks/results-<time>.json, docs/benchmarks/latest.json, the results
 * section of docs/benchmarks.md and docs/benchmarks/chart.png. Loopback only; every load
 * loop is bounded in count and time.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfigFile } from '../src/config/load.js';
import { PORTS, REPO, benchLock, writeShekaraConfig } from './procs.js';
import { latency, memory, overload, throughput, type Env, type Target } from './scenarios.js';
import { gbt32960 } from './gbt32960.js';
import { sustained } from './sustained.js';
import { describeMachine, writeReport, type BenchResults } from './report.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  // The usage is this file's header comment, so the two cannot drift apart.
  const header = /\/\*\*([\s\S]*?)\*\//.exec(readFileSync(new URL(import.meta.url), 'utf8'))?.[1] ?? '';
  process.stdout.write(header.replace(/^ \* ?/gm, '').trim() + '\n');
  process.exit(0);
}
const quick = args.includes('--quick');
const argOf = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const only = new Set((argOf('--only') ?? 'throughput,latency,memory,overload,gbt32960').split(','));
const profile = args.includes('--profile');
/** Which gateway build was measured: --label TEXT, else the git commit of this checkout. */
const label =
  argOf('--label') ??
  (() => {
    try {
      return execFileSync('git', ['-C', REPO, 'describe', '--always', '--dirty'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return 'unknown';
    }
  })();

/** Every duration and size in one place; --quick shrinks them to a smoke test. */
const PLAN = quick
  ? {
      cars: 200,
      procs: 2,
      rounds: 1,
      tp: { window: 10, warmupS: 2, measureS: 4 },
      lat: { rate: 1_000, warmupS: 1, measureS: 4, drainS: 10 },
      mem: { connections: 1_000, procs: 2 },
      ov: { rate: 20_000, seconds: 8, window: 100, drainS: 5 },
    }
  : {
      cars: 1_000,
      procs: 4,
      rounds: 2,
      tp: { window: 10, warmupS: 3, measureS: 15 },
      lat: { rate: 5_000, warmupS: 3, measureS: 20, drainS: 20 },
      mem: { connections: 10_000, procs: 5 },
      ov: { rate: 40_000, seconds: 30, window: 100, drainS: 10 },
    };
/**
 * The overload scenario runs twice: with Node's default heap limit (~4 GB on a 24 GB machine)
 * and capped as a container runs it: the Helm chart's `--max-old-space-size` for its default
 * 2 GiB memory limit (deploy/helm: 75 % of the limit). `--heap-cap MB` for another.
 */
const HEAP_CAP_MB = Number(argOf('--heap-cap') ?? 1_536);
// --rate N: the latency scenario at another total rate (a sweep point); --scratch: write the
// report next to the work files instead of over the published numbers in docs/.
if (argOf('--rate')) PLAN.lat.rate = Number(argOf('--rate'));
const baseline = argOf('--baseline') ? path.resolve(argOf('--baseline')!) : undefined;
/** The previous build as the report names it: its commit when DIR is a git checkout, else DIR. */
const buildOf = (dir: string): string => {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return dir;
  }
};
const SUSTAINED = {
  rate: Number(argOf('--sustained-rate') ?? 3_000),
  seconds: Number(argOf('--duration') ?? (quick ? 20 : 600)),
  drainS: 60,
};
const scratch = quick || args.includes('--scratch');
const EGRESS_CONCURRENCY = 64; // the shipped default
const OEM_BATCH = argOf('--batch') ? Number(argOf('--batch')) : undefined;
if (OEM_BATCH !== undefined && !(Number.isInteger(OEM_BATCH) && OEM_BATCH >= 1 && OEM_BATCH <= 10_000))
  throw new Error('--batch takes a whole number of records per POST, 1 to 10000');

async function main(): Promise<void> {
  const started = new Date();
  const workDir = mkdtempSync(path.join(tmpdir(), 'shekara-benchrun-'));
  const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  log(`bench ${quick ? '(quick) ' : ''}in ${workDir}; scenarios: ${[...only].join(', ')}`);
  await benchLock(PORTS.lock, log);

  // Vehicles are registered once in a template store; each Shekara run starts from a copy.
  const vehicles = Math.max(PLAN.cars, only.has('memory') ? PLAN.mem.connections : 0);
  const t = Date.now();
  const { templateDb, credsFile } = await templateStore(workDir, REPO, vehicles);
  log(`registered ${vehicles} vehicles in ${Date.now() - t} ms`);
  // The previous build gets a template of its own making: this build's store may carry
  // migrations it does not know, and a gateway refuses a store newer than itself.
  const baseTemplate = baseline ? await templateStore(path.join(workDir, 'baseline'), baseline, vehicles) : undefined;

  // --profile: every Shekara run writes a V8 CPU profile (for diagnosis; it costs a few percent).
  const profDir = path.join(workDir, 'profile');
  const env: Env = {
    workDir,
    templateDb,
    credsFile,
    egressConcurrency: EGRESS_CONCURRENCY,
    oemBatch: OEM_BATCH,
    log,
    shekaraNodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
  };
  const results: BenchResults = {
    startedAt: started.toISOString(),
    finishedAt: '',
    quick,
    gateway: label ?? 'unknown',
    machine: describeMachine(),
    plan: { ...PLAN, egressConcurrency: EGRESS_CONCURRENCY, ...(OEM_BATCH ? { oemBatch: OEM_BATCH } : {}) },
    throughput: [],
    latency: [],
    memory: [],
    overload: undefined,
    gbt32960: [],
    errors: [],
  };
  const extra = results as BenchResults & { sustained?: unknown };
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      log(`  ${what} FAILED: ${(err as Error).message}`);
      results.errors.push(`${what}: ${(err as Error).message}`);
    }
  };
  /**
   * `--baseline`: the previous build's round, run right after this build's in the same round (the
   * same machine load); undefined without `--baseline` or when the round failed.
   */
  const previousBuild = async <T>(what: string, run: (e: Env) => Promise<T>): Promise<T | undefined> => {
    if (!baseline) return undefined;
    let out: T | undefined;
    await attempt(`${what} shekara baseline`, async () => {
      env.log(`  (baseline build in ${baseline})`);
      out = await run({ ...env, shekaraRepo: baseline, ...baseTemplate });
      results.baseline = buildOf(baseline);
    });
    return out;
  };
  // Alternate the targets so slow drifts in the shared machine's load hit both alike.
  const order = (round: number): Target[] => (round % 2 === 0 ? ['shekara', 'mosquitto'] : ['mosquitto', 'shekara']);

  if (only.has('throughput')) {
    log(`throughput: QoS 1, ${PLAN.cars} cars, max rate (window ${PLAN.tp.window} per car)`);
    for (let r = 0; r < PLAN.rounds; r++)
      for (const target of order(r)) {
        await attempt(`throughput ${target}`, async () => {
          results.throughput.push(await throughput(env, target, { cars: PLAN.cars, procs: PLAN.procs, ...PLAN.tp }));
        });
        if (target === 'shekara') {
          const previous = await previousBuild('throughput', (e) =>
            throughput(e, target, { cars: PLAN.cars, procs: PLAN.procs, ...PLAN.tp }),
          );
          if (previous) (results.throughputBaseline ??= []).push(previous);
        }
      }
    // The same load with MQTT 5 cars: one round of each.
    log(`throughput: the same with MQTT 5 cars`);
    for (const target of order(PLAN.rounds))
      await attempt(`throughput MQTT 5 ${target}`, async () => {
        results.throughput.push(
          await throughput(env, target, { cars: PLAN.cars, procs: PLAN.procs, ...PLAN.tp, protocol: 5 }),
        );
      });
  }
  if (only.has('latency')) {
    log(`latency: QoS 1, ${PLAN.cars} cars, ${PLAN.lat.rate} msgs/s in total`);
    for (let r = 0; r < PLAN.rounds; r++)
      for (const target of order(r + 1)) {
        await attempt(`latency ${target}`, async () => {
          results.latency.push(await latency(env, target, { cars: PLAN.cars, procs: PLAN.procs, ...PLAN.lat }));
        });
        if (target === 'shekara') {
          const previous = await previousBuild('latency', (e) =>
            latency(e, target, { cars: PLAN.cars, procs: PLAN.procs, ...PLAN.lat }),
          );
          if (previous) (results.latencyBaseline ??= []).push(previous);
        }
      }
  }
  if (only.has('sustained')) {
    log(`sustained: QoS 1, ${PLAN.cars} cars, ${SUSTAINED.rate} msgs/s for ${SUSTAINED.seconds} s`);
    await attempt('sustained', async () => {
      extra.sustained = await sustained(env, { cars: PLAN.cars, procs: PLAN.procs, ...SUSTAINED });
    });
  }
  if (only.has('memory')) {
    log(`memory: ${PLAN.mem.connections} idle connections`);
    for (const target of order(0))
      await attempt(`memory ${target}`, async () => {
        results.memory.push(await memory(env, target, PLAN.mem));
      });
  }
  if (only.has('overload')) {
    log(`overload: ${PLAN.ov.rate} msgs/s offered for ${PLAN.ov.seconds} s, Node's default heap limit`);
    await attempt('overload', async () => {
      results.overload = await overload(env, { cars: PLAN.cars, procs: PLAN.procs, ...PLAN.ov });
    });
    log(`overload: the same with the gateway's heap capped at ${HEAP_CAP_MB} MB`);
    await attempt('overload (heap cap)', async () => {
      const o = { cars: PLAN.cars, procs: PLAN.procs, ...PLAN.ov, heapCapMb: HEAP_CAP_MB };
      results.overloadCapped = await overload(env, o);
    });
  }
  if (only.has('gbt32960')) {
    log(`GB/T 32960: ${PLAN.cars} terminals, max rate (window ${PLAN.tp.window}), beside the MQTT path`);
    await attempt('gbt32960', async () => {
      results.gbt32960 = await gbt32960(env, { rounds: PLAN.rounds, cars: PLAN.cars, procs: PLAN.procs, ...PLAN.tp });
    });
  }
  if (profile)
    log(
      `CPU profiles in ${profDir}; summarise them (each process's threads together) with: node --import tsx bench/profile-summary.ts ${profDir}`,
    );
  results.finishedAt = new Date().toISOString();
  // A quick smoke run writes next to its work files, never over the published numbers.
  const written = await writeReport(results, scratch ? path.join(workDir, 'docs') : path.join(REPO, 'docs'));
  log(`wrote ${written.join(', ')}`);
  // --json FILE: the raw results for another script (bench/egress.ts reads its rows from it).
  const jsonOut = argOf('--json');
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
  // Each run's store is a few hundred MB after the overload run; keep them only on request.
  if (!args.includes('--keep')) {
    for (const f of readdirSync(workDir))
      if (f.startsWith('run-') || f.startsWith('shekara.db') || f === 'creds.json' || f === 'baseline')
        rmSync(path.join(workDir, f), { recursive: true, force: true });
  }
  if (results.errors.length > 0) process.exitCode = 1;
}

/** A store with `vehicles` registered by the build in `repo` (its dist/), and their credentials. */
async function templateStore(
  dir: string,
  repo: string,
  vehicles: number,
): Promise<{ templateDb: string; credsFile: string }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const load = (p: string) => import(pathToFileURL(path.join(repo, 'dist', p)).href);
  const { createStore } = (await load('store/index.js')) as typeof import('../src/store/index.js');
  const { registerSimCars } = (await load('sim/simulate.js')) as typeof import('../src/sim/simulate.js');
  const cfg = loadConfigFile(writeShekaraConfig(dir, { egressConcurrency: EGRESS_CONCURRENCY }));
  const store = await createStore(cfg.store, dir);
  const creds = await registerSimCars(store, vehicles, 'bench-oem', 'BENCH');
  await store.close();
  const credsFile = path.join(dir, 'creds.json');
  writeFileSync(credsFile, JSON.stringify(creds));
  return { templateDb: path.join(dir, 'shekara.db'), credsFile };
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
