/**
 * Benchmark (not a test): the work a refused vehicle authentication does before the event loop
 * sleeps — the store look-up and the secret check — timed in process, for a registered VIN, an
 * unknown one and a control (a second registered VIN). This is what bench/auth-timing.ts sees
 * over the wire (the refusal floor adds a fixed time after it, src/ingest/credentials.ts), without
 * the network's noise, so it stays readable on a shared machine.
 *
 *   node --import tsx bench/auth-lookup.ts
 *
 * Times, interleaved per round in rotating order, both look-ups: `getVehicleForAuth` (what ingest uses: an unknown
 * VIN reads the decoy row) and `getVehicle` (what it used before, for comparison). Prints p10,
 * p25 and median per kind and look-up, and the median of the per-round differences
 * known − unknown and known − control. Env: ROUNDS (50000), CARS registered (1000),
 * STORE=postgres for the machine's PostgreSQL (a schema of its own, dropped after).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { vehicleSecretMatches } from '../src/ingest/credentials.js';
import { registerSimCars } from '../src/sim/simulate.js';
import { openPostgresStore } from '../src/store/pg/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/index.js';

const ROUNDS = Number(process.env.ROUNDS ?? 50_000);
const CARS = Number(process.env.CARS ?? 1_000);
const WARM_UP = Math.min(2_000, ROUNDS); // rounds not counted
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const WRONG = 'wrong-secret-0123456789abcdefghij';

const onPg = process.env.STORE === 'postgres';
const dir = mkdtempSync(path.join(tmpdir(), 'shekara-auth-lookup-'));
const schema = `shk_auth_lookup_${process.pid}`;
const store: Store = onPg
  ? await openPostgresStore({ url: PG_URL, schema, poolSize: 2 })
  : await openSqliteStore(path.join(dir, 'shekara.db'));
const cars = await registerSimCars(store, CARS, 'demo-oem');
const KINDS = [
  ['known', cars[Math.floor(CARS / 2)]!.vin],
  ['unknown', 'LUNKN000000000099'],
  ['control', cars[Math.floor(CARS / 2) + 1]!.vin],
] as const;
const LOOKUPS = ['getVehicleForAuth', 'getVehicle'] as const;

/** As src/ingest/index.ts and http.ts do it: look up, drop a revoked vehicle, check the secret. */
const once = async (lookup: (typeof LOOKUPS)[number], vin: string) => {
  const t0 = process.hrtime.bigint();
  const v = await store[lookup](vin);
  vehicleSecretMatches(v && v.revokedAt === null ? v : undefined, WRONG);
  return Number(process.hrtime.bigint() - t0) / 1000;
};

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
const times = LOOKUPS.map(() => KINDS.map(() => [] as number[]));
console.log(
  `load before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (let r = 0; r < ROUNDS + WARM_UP; r++) {
  for (const [l, lookup] of LOOKUPS.entries())
    for (let j = 0; j < KINDS.length; j++) {
      const k = (r + j) % KINDS.length; // the order rotates: no kind always follows another
      const us = await once(lookup, KINDS[k]![1]);
      if (r >= WARM_UP) times[l]![k]!.push(us);
    }
}
console.log(`${onPg ? 'PostgreSQL' : 'SQLite'}, ${CARS} cars, ${ROUNDS} rounds, look-up + check in µs`);
for (const [l, lookup] of LOOKUPS.entries()) {
  const [known, unknown, control] = times[l]!;
  for (const [k, [kind]] of KINDS.entries()) {
    const xs = times[l]![k]!;
    const p = (x: number) => q(xs, x).toFixed(2);
    console.log(`  ${lookup.padEnd(17)} ${kind.padEnd(8)} p10 ${p(0.1)} · p25 ${p(0.25)} · median ${p(0.5)}`);
  }
  const paired = (a: number[], b: number[]) =>
    q(
      a.map((x, i) => x - b[i]!),
      0.5,
    ).toFixed(2);
  console.log(
    `  ${lookup.padEnd(17)} median per-round gap: known − unknown ${paired(known!, unknown!)} · known − control ${paired(known!, control!)}`,
  );
}
console.log(
  `load after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
if (onPg) {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
}
