// Store backends side by side: durable ingest commits and egress settles (outbox
// status + egress-log row + Merkle leaf, one transaction per batch) on SQLite and PostgreSQL;
// then PostgreSQL settlement by 1, 2, 4… instances at once, each a process of its own on one
// schema, each running the egress log's integrator as a gateway does (docs/audit.md
// "Sequencing"): outcomes/s until every outcome is settled AND integrated (leaf index given),
// the ratio to one instance, and the longest integration delay a round saw. Per instance it also
// prints the wall time spent leasing and settling and the CPU since `go` of the process and of
// its PostgreSQL backends (their application_name is shk-bench-<k>-<i>, for pg_stat_activity):
// on a shared machine compare CPU per outcome and wait events, not rates alone.
// Run: node --import tsx bench/store-backends.ts [records=20000] [postgres url] [--instances 1,2,4] [--json FILE]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { openPostgresStore } from '../src/store/pg/index.js';
import { startIntegrator } from '../src/audit/integrator.js';
import { createLogger } from '../src/log.js';
import type { IngestItem, OutboxRow, Store } from '../src/store/types.js';

const argv = process.argv.slice(2);
const flag = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const positional = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
const N = Number(positional[0] ?? 20_000);
const PG_URL = positional[1] ?? 'postgres://postgres@127.0.0.1:5432/test';
const INSTANCES = (flag('--instances') ?? '1,2,4').split(',').map(Number);
const INGEST_BATCH = 256; // ingest.commitMaxBatch default
const SETTLE_BATCH = 64;
const INTEGRATE_INTERVAL_MS = 100; // audit.integrateIntervalMs default
const T0 = Date.now();

const items = (from: number, to: number): IngestItem[] =>
  Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    const id = `019ab000-0000-7000-8000-${String(i).padStart(12, '0')}`;
    const signals = {
      'Vehicle.Speed': 54.2,
      'Vehicle.CurrentLocation.Latitude': 43.2 + i / 1e6,
      'Vehicle.CurrentLocation.Longitude': 76.9,
      'Vehicle.TraveledDistance': 12345,
    };
    return {
      kind: 'record',
      raw: Buffer.from(JSON.stringify({ ts: T0, speed: 54.2, position: { lat: 43.2, lon: 76.9 }, odometer: 12345 })),
      record: {
        id,
        vin: `LSHKZ${String(i % 5000).padStart(12, '0')}`,
        oem: 'acme',
        channel: 'mqtt',
        receivedAt: T0,
        observedAt: T0,
        signals,
        account: {},
        unknownKeys: [],
      },
      projections: [
        {
          recordId: id,
          deliveryId: `d_${id}`,
          oem: 'acme',
          purpose: 'speed',
          policyHash: `sha256:${'ab'.repeat(32)}`,
          vehicle: `p${i}`,
          observedAt: T0,
          signals: { 'Vehicle.Speed': 54 },
          fieldsSent: ['Vehicle.Speed'],
          fieldsDropped: ['Vehicle.CurrentLocation.Latitude'],
        },
      ],
    };
  });

const entry = (r: OutboxRow) => ({
  at: T0,
  oem: r.oem,
  destination: 'oem.example:443',
  destinationIp: '203.0.113.7',
  destinationCountry: 'DE',
  recordId: r.recordId,
  pseudonym: r.pseudonym,
  purpose: r.purpose,
  policyHash: r.policyHash,
  fieldsSent: r.fieldsSent,
  fieldsDropped: r.fieldsDropped,
  outcome: 'delivered' as const,
  attempt: 1,
  httpStatus: 200,
  error: null,
});

async function ingest(store: Store): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < N; i += INGEST_BATCH) await store.commitIngest(items(i, Math.min(N, i + INGEST_BATCH)));
  return N / ((performance.now() - t) / 1000);
}

/** Wall time spent leasing and settling (ms), so a slow instance shows which of the two it waits in. */
const spent = { lease: 0, settle: 0, leases: 0 };

/** Leases and settles until nothing is due; returns outcomes settled. */
async function settleAll(store: Store): Promise<number> {
  let n = 0;
  for (;;) {
    let t = performance.now();
    const rows = await store.leaseDueOutbox(T0 + 1, SETTLE_BATCH, 60_000);
    spent.lease += performance.now() - t;
    spent.leases += 1;
    if (rows.length === 0) return n;
    t = performance.now();
    await store.settleOutbox(rows.map((r) => ({ kind: 'delivered' as const, outboxId: r.id, entry: entry(r) })));
    spent.settle += performance.now() - t;
    n += rows.length;
  }
}

async function measure(name: string, open: () => Promise<Store>) {
  const store = await open();
  const ingestRate = await ingest(store);
  const t = performance.now();
  const settled = await settleAll(store);
  const settleRate = settled / ((performance.now() - t) / 1000);
  console.log(
    `${name}: commitIngest ${Math.round(ingestRate)} records/s (batches of ${INGEST_BATCH}, each with a route point and an outbox row); ` +
      `settle ${Math.round(settleRate)} outcomes/s (batches of ${SETTLE_BATCH}, one instance)`,
  );
  await store.close();
  return { ingestRate, settleRate };
}

/**
 * One instance (child process): opens the schema, says `ready`, waits for `go` on stdin, then
 * settles what is due and runs the integrator until nothing is staged; prints what it did.
 */
async function instance(url: string, schema: string): Promise<void> {
  const store = await openPostgresStore({ url, schema, poolSize: 4 });
  let maxDelayMs = 0;
  const integrator = startIntegrator(
    { intervalMs: INTEGRATE_INTERVAL_MS },
    {
      store: {
        integrateEgressLog: async (o) => {
          const r = await store.integrateEgressLog(o);
          if (r.oldestStagedAt !== null) maxDelayMs = Math.max(maxDelayMs, Date.now() - r.oldestStagedAt);
          return r;
        },
      },
      log: createLogger('silent'),
      now: Date.now,
    },
  );
  process.stdout.write('ready\n');
  // `go` on stdin; then stdin is let go, or its open pipe keeps this process alive after its work.
  const rl = createInterface({ input: process.stdin });
  await new Promise((r) => rl.once('line', r));
  rl.close();
  process.stdin.destroy();
  const cpu0 = process.cpuUsage();
  const pgCpu0 = await backendCpuMs(url);
  const settled = await settleAll(store);
  const settledAt = Date.now();
  while ((await store.egressLogStaged()).staged > 0) await new Promise((r) => setTimeout(r, 10));
  await integrator.close();
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  const pgCpu1 = await backendCpuMs(url);
  const pgCpuMs = pgCpu0 === null || pgCpu1 === null ? null : pgCpu1 - pgCpu0;
  await store.close();
  process.stdout.write(
    `${JSON.stringify({ settled, settledAt, integratedAt: Date.now(), maxDelayMs, cpuMs, pgCpuMs, leaseMs: Math.round(spent.lease), settleMs: Math.round(spent.settle), leases: spent.leases })}\n`,
  );
}

/**
 * CPU time (ms) of the PostgreSQL backends serving this instance's connections (its
 * application_name), read from /proc: the server runs on this machine in the bench. Null elsewhere.
 */
async function backendCpuMs(url: string): Promise<number | null> {
  const name = new URL(url).searchParams.get('application_name');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const pids = (
      await c.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
        [name],
      )
    ).rows.map((r) => r.pid);
    let ticks = 0;
    for (const pid of pids) {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    }
    return ticks * 10; // 100 ticks per second
  } catch {
    return null;
  } finally {
    await c.end();
  }
}

interface InstancesResult {
  instances: number;
  settled: number[];
  /** Per instance: "lease ms/settle ms (leases)". */
  spent: string[];
  /** Per instance: "node CPU ms + its PostgreSQL backends' CPU ms". */
  cpu: string[];
  /** Outcomes/s from `go` until the last instance finished settling; and until all were integrated. */
  settleRate: number;
  integratedRate: number;
  maxIntegrationDelayMs: number;
  consecutive: boolean;
}

const withAppName = (url: string, name: string) => {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
};

/** `k` instances, each a process, settle N outcomes staged on a fresh schema at once. */
async function instances(k: number, schema: string): Promise<InstancesResult> {
  const seed = await openPostgresStore({ url: PG_URL, schema, poolSize: 4 });
  await ingest(seed);
  const self = new URL(import.meta.url).pathname;
  // Each instance names its connections (application_name), so pg_stat_activity tells them apart.
  const procs = Array.from({ length: k }, (_, i) =>
    spawn(
      process.execPath,
      ['--import', 'tsx', self, '--instance', withAppName(PG_URL, `shk-bench-${k}-${i + 1}`), schema],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    ),
  );
  const lines = procs.map((p) => {
    const out: string[] = [];
    const rl = createInterface({ input: p.stdout! });
    rl.on('line', (l) => out.push(l));
    const exited = new Promise<number | null>((r) => p.on('exit', r));
    return { out, exited };
  });
  for (let n = 0; n < 1_200 && !lines.every((l) => l.out.includes('ready')); n++)
    await new Promise((r) => setTimeout(r, 50));
  const go = Date.now();
  // end(): the instance reads one line, and its stdin closes with it.
  for (const p of procs) p.stdin!.end('go\n');
  const codes = await Promise.all(lines.map((l) => l.exited));
  if (codes.some((c) => c !== 0)) throw new Error(`an instance exited ${codes.join(', ')}`);
  const done = lines.map(
    (l) =>
      JSON.parse(l.out.at(-1)!) as {
        settled: number;
        settledAt: number;
        integratedAt: number;
        maxDelayMs: number;
        cpuMs: number;
        pgCpuMs: number | null;
        leaseMs: number;
        settleMs: number;
        leases: number;
      },
  );
  const settledSecs = (Math.max(...done.map((d) => d.settledAt)) - go) / 1000;
  const integratedSecs = (Math.max(...done.map((d) => d.integratedAt)) - go) / 1000;
  const consecutive = (await seed.auditTreeSize()) === N;
  await seed.close();
  return {
    instances: k,
    settled: done.map((d) => d.settled),
    spent: done.map((d) => `${d.leaseMs}/${d.settleMs} (${d.leases})`),
    cpu: done.map((d) => `${d.cpuMs}+${d.pgCpuMs ?? '?'}`),
    settleRate: Math.round(N / settledSecs),
    integratedRate: Math.round(N / integratedSecs),
    maxIntegrationDelayMs: Math.max(...done.map((d) => d.maxDelayMs)),
    consecutive,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shk-bench-store-'));
  const schema = `shk_bench_${process.pid}`;
  const schemas = [schema, ...INSTANCES.map((k) => `${schema}_${k}`)];
  try {
    const sqlite = await measure('SQLite (synchronous=FULL)', async () => openSqliteStore(path.join(dir, 's.db')));
    const single = await measure('PostgreSQL (synchronous_commit=on)', async () =>
      openPostgresStore({ url: PG_URL, schema, poolSize: 4 }),
    );
    const runs: InstancesResult[] = [];
    for (const k of INSTANCES) {
      const r = await instances(k, `${schema}_${k}`);
      runs.push(r);
      const base = runs[0]!;
      console.log(
        `PostgreSQL, ${k} instance${k === 1 ? '' : 's'} (processes) settling ${N} at once: ${r.integratedRate} outcomes/s settled and integrated ` +
          `(× ${(r.integratedRate / base.integratedRate).toFixed(2)} of ${base.instances}); settled alone ${r.settleRate}/s; ` +
          `shares ${r.settled.join(' + ')}; lease/settle ms per instance ${r.spent.join(', ')}; CPU ms node+pg ${r.cpu.join(', ')}; longest integration delay ${r.maxIntegrationDelayMs} ms; leaf indexes consecutive: ${r.consecutive}`,
      );
    }
    const json = flag('--json');
    if (json) writeFileSync(json, JSON.stringify({ records: N, sqlite, postgres: single, instances: runs }, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await c.end();
  }
}

if (argv[0] === '--instance') await instance(argv[1]!, argv[2]!);
else await main();
