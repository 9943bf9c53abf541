/**
 * The VIN index of SQLite records (records_vin, written in batches: migration 0170) and the check
 * of its mark (0180), on a store of `--records` records of `--cars` cars:
 *
 *   node --import tsx bench/vin-mark.ts [--records 150000] [--cars 1000] [--rounds 3] [--calls 50000]
 *        [--lookups 300]
 *
 * - the mark's read, which the writer makes once per commit: the check (the mark's row, then its
 *   record's rowid by primary key) beside the read it replaced (`SELECT through`), µs per call,
 *   wall and CPU, the two alternating for `--rounds` rounds;
 * - the owner's pseudonym lookup (`pseudonymsOfVin`, the owner API's and the regulator's) with
 *   0, 4,096 and 8,191 records in the tail that records_of_vin reads row by row, and with the mark
 *   broken (rowids renumbered: every record is read), ms per lookup, wall and CPU;
 * - the repair after a renumbering (every record indexed again, the tail the only new entries):
 *   what the store's open or the writer's next commit then takes once.
 *
 * Records are inserted around the store (their rows as the writer writes them, without route
 * points, projections or egress-log entries: the lookup still probes the egress log per record).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { markOfVins } from '../src/store/records/sqlite.js';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const RECORDS = Number(flag('--records') ?? 150_000);
const CARS = Number(flag('--cars') ?? 1_000);
const ROUNDS = Number(flag('--rounds') ?? 3);
const CALLS = Number(flag('--calls') ?? 50_000);
const LOOKUPS = Number(flag('--lookups') ?? 300);
const T0 = Date.UTC(2026, 11, 4, 12);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const vinOf = (i: number) => `LSHKZ${String(i % CARS).padStart(12, '0')}`;

/** Wall and CPU µs per call of `f` run `n` times. */
function timed(n: number, f: (k: number) => unknown): { wallUs: number; cpuUs: number } {
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let k = 0; k < n; k++) f(k);
  const wallUs = ((performance.now() - t) * 1e3) / n;
  const c = process.cpuUsage(cpu);
  return { wallUs, cpuUs: (c.user + c.system) / n };
}
async function timedAsync(n: number, f: (k: number) => Promise<unknown>): Promise<{ wallUs: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let k = 0; k < n; k++) await f(k);
  const wallUs = ((performance.now() - t) * 1e3) / n;
  const c = process.cpuUsage(cpu);
  return { wallUs, cpuUs: (c.user + c.system) / n };
}

const dir = mkdtempSync(path.join(tmpdir(), 'shekara-vin-mark-bench-'));
const file = path.join(dir, 'store.db');
try {
  const store = openSqliteStore(file);
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  const insert =
    db.prepare(`INSERT INTO records (id, vin, oem, channel, received_at, observed_at, signals, unknown_keys, raw)
    VALUES (?, ?, 'bench-oem', 'mqtt', ?, ?, ?, '[]', ?)`);
  const signals = JSON.stringify(
    Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`Vehicle.Signal${k}`, k * 1.5])),
  );
  const raw = Buffer.alloc(500, 120);
  let n = 0;
  const add = db.transaction((count: number) => {
    for (let k = 0; k < count; k++, n++)
      insert.run(`r${String(n).padStart(9, '0')}`, vinOf(n), T0 + n, T0 + n, signals, raw);
  });
  for (let i = 0; i < RECORDS; i += 10_000) add(Math.min(10_000, RECORDS - i));
  // One commit through the writer: its tail holds every record, so it indexes them all.
  await store.commitIngest([
    {
      kind: 'record',
      record: {
        id: `r${String(n++).padStart(9, '0')}`,
        vin: vinOf(0),
        oem: 'bench-oem',
        channel: 'mqtt',
        receivedAt: T0,
        observedAt: T0,
        signals: {},
        account: {},
        unknownKeys: [],
      },
      raw,
      projections: [],
    },
  ]);
  console.log(
    `vin-mark bench: ${n} records of ${CARS} cars, indexed through ${db.prepare('SELECT through FROM records_vin_mark').pluck().get()}; load ${load()}`,
  );

  const before = db.prepare(`SELECT through FROM records_vin_mark`).pluck();
  const mark = markOfVins(db);
  const rows: { old: number[]; check: number[]; oldCpu: number[]; checkCpu: number[] } = {
    old: [],
    check: [],
    oldCpu: [],
    checkCpu: [],
  };
  for (let r = 0; r < ROUNDS; r++) {
    const a = timed(CALLS, () => before.get());
    const b = timed(CALLS, () => mark.read());
    rows.old.push(a.wallUs);
    rows.oldCpu.push(a.cpuUs);
    rows.check.push(b.wallUs);
    rows.checkCpu.push(b.cpuUs);
    console.log(
      `  round ${r + 1} mark read: SELECT through ${a.wallUs.toFixed(2)} µs (CPU ${a.cpuUs.toFixed(2)}), ` +
        `with the check ${b.wallUs.toFixed(2)} µs (CPU ${b.cpuUs.toFixed(2)}); load ${load()}`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
  console.log(
    `  median mark read: ${median(rows.old).toFixed(2)} → ${median(rows.check).toFixed(2)} µs per commit ` +
      `(CPU ${median(rows.oldCpu).toFixed(2)} → ${median(rows.checkCpu).toFixed(2)})`,
  );

  const lookups = async (label: string, count: number) => {
    const t = await timedAsync(count, (k) => store.pseudonymsOfVin(vinOf(k * 7)));
    console.log(
      `  pseudonym lookup, ${label}: ${(t.wallUs / 1e3).toFixed(2)} ms (CPU ${(t.cpuUs / 1e3).toFixed(2)}); load ${load()}`,
    );
  };
  const tail = () =>
    db.prepare(`SELECT MAX(rowid) - (SELECT through FROM records_vin_mark) FROM records`).pluck().get();
  await lookups(`tail ${tail()}`, LOOKUPS);
  add(4_096);
  await lookups(`tail ${tail()}`, LOOKUPS);
  add(4_095);
  await lookups(`tail ${tail()}`, LOOKUPS);
  // Renumbered rowids, as far as the check sees: the mark names a record that is not at its rowid.
  db.prepare(`UPDATE records_vin_mark SET through_id = 'r-renumbered'`).run();
  await lookups(`mark broken, every record read (${n})`, Math.max(3, Math.round(LOOKUPS / 30)));
  const entries = db.prepare(`SELECT COUNT(*) FROM records_vin`).pluck();
  const had = entries.get() as number;
  const repair = timed(1, () => db.transaction(() => mark.repair())());
  console.log(
    `  repair (every record indexed again, ${(entries.get() as number) - had} new entries): ` +
      `${(repair.wallUs / 1e3).toFixed(0)} ms (CPU ${(repair.cpuUs / 1e3).toFixed(0)}); load ${load()}`,
  );
  db.close();
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
