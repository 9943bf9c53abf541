/**
 * The SQLite writer thread alone: how much of the one writer's time an ingested record costs.
 *
 *   npm run -s build && node --import tsx bench/writer.ts [--records 20000] [--prefill 40000]
 *        [--rounds 3] [--batch 256] [--qos2] [--account] [--settle] [--baseline DIR]
 *        [--by-tree] [--drop INDEX[,INDEX…]]
 *
 * Each round opens a fresh store file with the build's own `openSqliteStore` (its dist/), fills
 * it with `--prefill` records (not measured: the indexes then have a realistic depth), then
 * commits `--records` more in commits of `--batch` records, one after the other as the group
 * committer does, and reads the writer thread's busy time (`writerStatsOf`: the statements,
 * BEGIN/COMMIT and the fsync) before and after, and the CPU time of the busiest thread but the
 * main one (the writer; /proc/self/task). Printed per build: writer-busy µs per record, the
 * writer's CPU µs per record (without the disk waits a shared machine makes noisy) and
 * records/s and the WAL bytes per record (the frames SQLite appended to the store's WAL during
 * the measured commits, counted after each commit: what each record costs the disk before any
 * checkpoint), each round and the median. With `--baseline DIR` the build in checkout DIR
 * (built: DIR/dist) runs in the same rounds, alternating with this checkout's dist, so the two
 * are compared in the same minutes on the same disk.
 *
 * The items look like the throughput bench's at max rate (docs/benchmarks.md "What limits
 * Shekara"): a ~0.5 KB raw payload, ~20 signals with a position (so a route point), and two
 * projections each with a policy decision of ~1.9 KB, ~0.5 KB of dropped fields and a small body.
 * `--qos2` gives every record an MQTT QoS 2 packet id (a mqtt_qos2 row in the same commit);
 * `--account` gives every record account data (an account_data row: the owner's name).
 * `--settle`: after each measured commit, as many outcomes as it made projections are settled
 * (delivered, with their egress-log entries and leaves) on the same writer: the due heads of
 * queue, read on the main connection as the local queue reads them, each entry carrying the
 * digest its sender made of the row's body (a build that does not take it hashes the stored body).
 * `--by-tree`: also the WAL KB per record of each table and index (the B-tree that owns each
 * page written, read from dbstat after the round), so every KB is accounted for.
 * `--drop`: drops these indexes right after the store is opened (before the prefill), to
 * measure what each costs; a scratch measure only, a store without them is not a valid store.
 * `--commit-times`: also each measured commit's time, as the committer waits for it (from the
 * call to the writer's answer: what the PUBACKs of its records wait) and as the writer's busy
 * time; the commits that wrote a batch of the VIN index (records_vin_mark moved, 0170) apart
 * from the others, with their WAL KB.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { threadCpu } from './proc-cpu.js';
import type { EgressSettlement, IngestItem, OutboxRow, Store } from '../src/store/types.js';
import { recordFacts } from '../src/egress/record-facts.js';
import { payloadDigest } from '../src/audit/leaf.js';
import type { WriterStats } from '../src/store/sqlite/ingest-writer.js';
import Database from 'better-sqlite3';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  const header = /\/\*\*([\s\S]*?)\*\//.exec(
    (await import('node:fs')).readFileSync(new URL(import.meta.url), 'utf8'),
  )?.[1];
  process.stdout.write((header ?? '').replace(/^ \* ?/gm, '').trim() + '\n');
  process.exit(0);
}
const flag = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const RECORDS = Number(flag('--records') ?? 20_000);
const PREFILL = Number(flag('--prefill') ?? 40_000);
const ROUNDS = Number(flag('--rounds') ?? 3);
const BATCH = Number(flag('--batch') ?? 256);
const QOS2 = argv.includes('--qos2');
const ACCOUNT = argv.includes('--account');
const SETTLE = argv.includes('--settle');
const BY_TREE = argv.includes('--by-tree');
const DROP = (flag('--drop') ?? '').split(',').filter(Boolean);
const COMMIT_TIMES = argv.includes('--commit-times');
const baseline = flag('--baseline');
const here = path.resolve(new URL('..', import.meta.url).pathname);

interface Build {
  readonly name: string;
  readonly open: (file: string) => Store;
  readonly stats: (store: object) => WriterStats | undefined;
}

async function load(name: string, dir: string): Promise<Build> {
  const m = (await import(pathToFileURL(path.join(dir, 'dist/store/sqlite/index.js')).href)) as {
    openSqliteStore: (file: string) => Store;
    writerStatsOf: (store: object) => WriterStats | undefined;
  };
  return { name, open: (f) => m.openSqliteStore(f), stats: (s) => m.writerStatsOf(s) };
}

const T0 = Date.UTC(2026, 11, 4, 12);
const CARS = 1_000;
const SIGNALS = [
  'Vehicle.Speed',
  'Vehicle.TraveledDistance',
  'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current',
  'Vehicle.Powertrain.TractionBattery.CurrentVoltage',
  'Vehicle.Powertrain.TractionBattery.CurrentCurrent',
  'Vehicle.Powertrain.TractionBattery.Temperature.Average',
  'Vehicle.Cabin.HVAC.AmbientAirTemperature',
  'Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure',
  'Vehicle.Chassis.Axle.Row1.Wheel.Right.Tire.Pressure',
  'Vehicle.Chassis.Axle.Row2.Wheel.Left.Tire.Pressure',
  'Vehicle.Chassis.Axle.Row2.Wheel.Right.Tire.Pressure',
  'Vehicle.Exterior.AirTemperature',
  'Vehicle.Powertrain.Range',
  'Vehicle.Body.Lights.IsLowBeamOn',
];
const DROPPED = [
  'Vehicle.CurrentLocation.Latitude',
  'Vehicle.CurrentLocation.Longitude',
  'Vehicle.CurrentLocation.Heading',
  ...SIGNALS.slice(4),
];

/**
 * Record `i` of a run, committed at `t`: ids grow with i as the gateway's UUIDv7s grow with time
 * (bits 12-27 of i in the second group, bits 0-11 in the third). Until 2026-12-05 the second
 * group took bits 16-31, so ids fell back every 4,096 records and the records' id index took
 * random inserts the gateway never makes: WAL figures before that date are ~1.5 KB/record high.
 */
function item(i: number, run: number): IngestItem {
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  const id = `019ae${hex(run, 3)}-${hex((i >>> 12) & 0xffff, 4)}-7${hex(i & 0xfff, 3)}-8000-${hex(i, 12)}`;
  const vin = `LSHKZ${String(i % CARS).padStart(12, '0')}`;
  const at = T0 + i * 10;
  const signals: Record<string, number | boolean> = {
    'Vehicle.CurrentLocation.Latitude': 43.2 + (i % 997) / 1e4,
    'Vehicle.CurrentLocation.Longitude': 76.9 + (i % 991) / 1e4,
    'Vehicle.CurrentLocation.Heading': i % 360,
  };
  SIGNALS.forEach((s, k) => (signals[s] = s.endsWith('On') ? i % 2 === 0 : Math.round((i % 1000) * (k + 1.37)) / 10));
  const projection = (purpose: string, k: number) => {
    const sent = SIGNALS.slice(0, 4 + k);
    const fields: Record<string, { outcome: 'passed' | 'dropped'; reason: string }> = {};
    for (const f of sent) fields[f] = { outcome: 'passed', reason: `listed for ${purpose}` };
    for (const f of DROPPED) fields[f] = { outcome: 'dropped', reason: `not listed for ${purpose} (deny by default)` };
    return {
      recordId: id,
      deliveryId: `d${k}_${hex(i * 2654435761, 12)}${hex(run, 4)}`,
      oem: 'bench-oem',
      purpose,
      policyHash: `sha256:${'ab'.repeat(32)}`,
      vehicle: `p_${hex((i % CARS) * 40503, 16)}`,
      observedAt: at,
      signals: Object.fromEntries(sent.map((f) => [f, signals[f]!])),
      fieldsSent: sent,
      fieldsDropped: DROPPED,
      decision: { fields },
    };
  };
  return {
    kind: 'record',
    raw: Buffer.from(JSON.stringify({ vin, ts: at, ...signals, pad: 'x'.repeat(40) })),
    record: {
      id,
      vin,
      oem: 'bench-oem',
      channel: 'mqtt',
      receivedAt: at,
      observedAt: at,
      signals,
      account: ACCOUNT ? { 'Account.Owner.Name': `Owner ${i % CARS}` } : {},
      unknownKeys: [],
    },
    projections: [projection('battery-warranty', 0), projection('fleet-health', 2)],
    ...(QOS2 ? { mqttQos2: (i % 65_535) + 1 } : {}),
  };
}

/**
 * Frames of the WAL's current generation (https://sqlite.org/fileformat2.html#wal_file_format):
 * a restart after a checkpoint writes new salts, so frames left from an older generation carry
 * other salts and end the count.
 */
function walFrames(file: string): { salt: string; frames: number; frameBytes: number; pages: number[] } {
  const wal = readFileSync(`${file}-wal`);
  if (wal.length < 32) return { salt: '', frames: 0, frameBytes: 0, pages: [] };
  const frameBytes = 24 + wal.readUInt32BE(8);
  const salt = wal.subarray(16, 24);
  const pages: number[] = [];
  for (let at = 32; at + frameBytes <= wal.length && wal.subarray(at + 8, at + 16).equals(salt); at += frameBytes)
    pages.push(wal.readUInt32BE(at));
  return { salt: salt.toString('hex'), frames: pages.length, frameBytes, pages };
}

/** Page numbers written to the WAL during the measured commits, one entry per frame. */
let framePages: number[] = [];

/** A delivered outcome of `row` as the delivery worker makes it, with the digest of the body it sent. */
const delivered = (row: OutboxRow, at: number): EgressSettlement => ({
  kind: 'delivered',
  outboxId: row.id,
  entry: {
    at,
    oem: row.oem,
    destination: 'oem.example:443',
    destinationIp: '203.0.113.7',
    destinationCountry: 'DE',
    ...recordFacts(row),
    outcome: 'delivered',
    attempt: row.attempts + 1,
    httpStatus: 200,
    error: null,
    payload: payloadDigest(row.body),
  },
});

/** Settles up to `n` due heads of queue as delivered, in one settle (one writer turn). */
async function settleDue(store: Store, n: number): Promise<void> {
  const at = Date.now();
  const rows = await store.dueOutboxHeads(at, n);
  await store.settleOutbox(rows.map((r) => delivered(r, at)));
  settled += rows.length;
}
let settled = 0;

/** One measured commit (`--commit-times`): waited for, writer-busy and writer-CPU ms, WAL KB, and whether it wrote a VIN batch. */
interface CommitTime {
  waitMs: number;
  busyMs: number;
  cpuMs: number;
  walKb: number;
  vinBatch: boolean;
}
let commitTimes: CommitTime[] = [];

/**
 * Commits records `from`..`to` in batches; with `file`, answers the WAL bytes they appended (and
 * with `stats`, times each commit: `--commit-times`).
 */
async function commitAll(
  store: Store,
  from: number,
  to: number,
  run: number,
  file?: string,
  stats?: () => WriterStats,
): Promise<number> {
  let walBytes = 0;
  let last = file ? walFrames(file) : undefined;
  const marks = file && stats ? new Database(file, { readonly: true }) : undefined;
  const markOf = marks?.prepare(`SELECT through FROM records_vin_mark`).pluck();
  let mark = markOf?.get();
  for (let i = from; i < to; i += BATCH) {
    const items: IngestItem[] = [];
    for (let k = i; k < Math.min(to, i + BATCH); k++) items.push(item(k, run));
    const busy = stats?.().busySeconds ?? 0;
    const cpu = stats ? workerCpu() : undefined;
    const t = performance.now();
    await store.commitIngest(items);
    const waitMs = performance.now() - t;
    const busyMs = ((stats?.().busySeconds ?? 0) - busy) * 1e3;
    const cpuMs = cpu ? busiest(cpu, workerCpu()) * 1e3 : 0;
    if (SETTLE && file) await settleDue(store, items.length * 2);
    let kb = 0;
    if (file && last) {
      // One commit at a time: a new generation began with this commit (the WAL restarts only
      // when a transaction starts writing after a checkpoint), so all of its frames are new.
      const now = walFrames(file);
      const fresh = now.salt === last.salt ? now.pages.slice(last.frames) : now.pages;
      walBytes += fresh.length * now.frameBytes;
      kb = (fresh.length * now.frameBytes) / 1024;
      if (BY_TREE) for (const p of fresh) framePages.push(p);
      last = now;
    }
    if (markOf) {
      const moved = markOf.get();
      commitTimes.push({ waitMs, busyMs, cpuMs, walKb: kb, vinBatch: moved !== mark });
      mark = moved;
    }
  }
  marks?.close();
  return walBytes;
}

/** The measured commits' times (`--commit-times`): the others' median and p99, then each VIN batch's. */
function printCommitTimes(): void {
  const q = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;
  const others = commitTimes.filter((c) => !c.vinBatch);
  const f = (x: number) => x.toFixed(1);
  const of = (key: keyof Omit<CommitTime, 'vinBatch'>, p = 0.5) => {
    const xs = others.map((c) => c[key]);
    return f(q(xs, p));
  };
  console.log(
    `      ${others.length} commits without a VIN batch: waited median ${of('waitMs')} ms, p99 ${of('waitMs', 0.99)} ms; ` +
      `writer busy median ${of('busyMs')} ms, CPU ${of('cpuMs')} ms; WAL median ${of('walKb')} KB`,
  );
  for (const c of commitTimes.filter((x) => x.vinBatch))
    console.log(
      `      commit with a VIN batch: waited ${f(c.waitMs)} ms, writer busy ${f(c.busyMs)} ms, CPU ${f(c.cpuMs)} ms, WAL ${f(c.walKb)} KB`,
    );
}

/**
 * CPU seconds of each thread of this process but the main one, by tid: the writer thread is the
 * busiest of them. Its CPU time, unlike its busy time, leaves out waiting for the disk, which
 * other processes on a shared machine make noisy.
 */
function workerCpu(): Map<number, number> {
  return new Map([...threadCpu('self')].filter(([tid]) => tid !== process.pid).map(([tid, t]) => [tid, t.s]));
}
const busiest = (before: Map<number, number>, after: Map<number, number>): number =>
  Math.max(0, ...[...after].map(([tid, s]) => s - (before.get(tid) ?? 0)));

interface Result {
  busyUs: number;
  cpuUs: number;
  rate: number;
  mb: number;
  walKb: number;
  settled: number;
  /** WAL KB per record by table or index (`--by-tree`). */
  trees: Map<string, number>;
}

/** WAL KB per record of each B-tree, by the owner of each page now (dbstat); header and freelist pages as such. */
function byTree(file: string, pages: readonly number[], frameBytes: number): Map<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    const owner = new Map<number, string>();
    for (const r of db.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[])
      owner.set(r.pageno, r.name);
    const out = new Map<string, number>();
    for (const p of pages) {
      const name = p === 1 ? '(header, schema)' : (owner.get(p) ?? '(freelist)');
      out.set(name, (out.get(name) ?? 0) + frameBytes / 1024 / RECORDS);
    }
    return out;
  } finally {
    db.close();
  }
}

async function round(b: Build, run: number): Promise<Result> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-writer-bench-'));
  const file = path.join(dir, 'store.db');
  try {
    const store = b.open(file);
    if (DROP.length > 0) {
      const db = new Database(file);
      for (const name of DROP) db.exec(`DROP INDEX ${name}`);
      db.close();
    }
    await commitAll(store, 0, PREFILL, run);
    const before = b.stats(store)!;
    const cpu = workerCpu();
    const t = performance.now();
    settled = 0;
    framePages = [];
    commitTimes = [];
    const walBytes = await commitAll(
      store,
      PREFILL,
      PREFILL + RECORDS,
      run,
      file,
      COMMIT_TIMES ? () => b.stats(store)! : undefined,
    );
    const secs = (performance.now() - t) / 1000;
    const after = b.stats(store)!;
    const cpuUs = (busiest(cpu, workerCpu()) * 1e6) / RECORDS;
    await store.close();
    const mb = (statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0)) / 1e6;
    const frameBytes = framePages.length > 0 ? walBytes / framePages.length : 0;
    return {
      trees: BY_TREE ? byTree(file, framePages, frameBytes) : new Map(),
      busyUs: ((after.busySeconds - before.busySeconds) * 1e6) / RECORDS,
      cpuUs,
      rate: RECORDS / secs,
      mb,
      walKb: walBytes / 1024 / RECORDS,
      settled,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const builds = [await load('this', here), ...(baseline ? [await load('baseline', path.resolve(baseline))] : [])];
const results = new Map<string, Result[]>(builds.map((b) => [b.name, []]));
console.log(
  `writer bench: ${RECORDS} records (after ${PREFILL}) in commits of ${BATCH}, 2 projections each${QOS2 ? ', QoS 2' : ''}${ACCOUNT ? ', account data' : ''}${SETTLE ? ', as many outcomes settled' : ''}`,
);
for (let r = 0; r < ROUNDS; r++)
  for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
    const x = await round(b, r);
    results.get(b.name)!.push(x);
    console.log(
      `  round ${r + 1} ${b.name.padEnd(8)} writer busy ${x.busyUs.toFixed(1)} µs/record (CPU ${x.cpuUs.toFixed(1)}), ${Math.round(x.rate)} records/s, WAL ${x.walKb.toFixed(1)} KB/record, file ${x.mb.toFixed(0)} MB${SETTLE ? `, ${x.settled} settled` : ''}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`,
    );
    for (const [name, kb] of [...x.trees].sort((p, q) => q[1] - p[1]))
      console.log(`      ${kb.toFixed(2).padStart(6)} KB/record  ${name}`);
    if (COMMIT_TIMES) printCommitTimes();
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, xs] of results)
  console.log(
    `${name.padEnd(8)} median: writer busy ${median(xs.map((x) => x.busyUs)).toFixed(1)} µs/record ` +
      `(CPU ${median(xs.map((x) => x.cpuUs)).toFixed(1)}), ` +
      `${Math.round(median(xs.map((x) => x.rate)))} records/s, WAL ${median(xs.map((x) => x.walKb)).toFixed(1)} KB/record`,
  );
