// Egress-log append rate and proof time at N leaves (default 1,000,000).
// Run: node --import tsx bench/audit-append.ts [N] [--bodies]
// --bodies: each appended entry has an outbox row with a ~1 KB body, as a real delivery has, and
// its entry carries the digest the delivery worker made of that body (made before the clock
// starts: the sender's cost, printed apart). A build that ignores the carried digest reads and
// hashes the stored body in the append, as the writer thread did before.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../src/store/sqlite/migrate.js';
import { openSqliteStore, SQLITE_MIGRATIONS } from '../src/store/sqlite/index.js';
import { sqliteAudit } from '../src/store/audit/sqlite.js';
import { sqliteEgressLog } from '../src/store/egress-log/sqlite.js';
import { proofSource } from '../src/audit/index.js';
import { createHash } from 'node:crypto';
import {
  consistencyProofAsync,
  inclusionProof,
  inclusionProofAsync,
  verifyInclusion,
  rootAtAsync,
} from '../src/audit/merkle.js';

const N = Number(process.argv[2] ?? 1_000_000);
const BODIES = process.argv.includes('--bodies');
const BATCH = 512; // what the egress settler commits per transaction
const dir = mkdtempSync(path.join(tmpdir(), 'shk-bench-'));
const file = path.join(dir, 'b.db');
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
migrate(db, SQLITE_MIGRATIONS);
const audit = sqliteAudit(db);
const noop = () => undefined;
const log = sqliteEgressLog(
  db,
  { insert: noop, markDelivered: noop, markFailed: noop, markDead: noop, isSettled: () => false } as never,
  audit,
);
const entry = (i: number) => ({
  at: 1_763_900_000_000 + i,
  oem: 'demo-oem',
  destination: 'oem.example:443',
  destinationIp: '203.0.113.7',
  destinationCountry: 'DE',
  recordId: `019ab000-0000-7000-8000-${String(i).padStart(12, '0')}`,
  pseudonym: `p${i % 5000}`,
  purpose: 'speed-profile',
  policyHash: `sha256:${'ab'.repeat(32)}`,
  fieldsSent: ['Vehicle.Speed', 'Vehicle.TraveledDistance'],
  fieldsDropped: ['Account.Owner.Name', 'Vehicle.CurrentLocation.Latitude'],
  outcome: 'delivered' as const,
  attempt: 1,
  httpStatus: 200,
  error: null,
});
/** A projection's body of about 1 KB (the shape of docs/oem-api.md's push body). */
const bodyOf = (i: number) =>
  JSON.stringify({
    deliveryId: `d_${createHash('sha256').update(String(i)).digest('hex').slice(0, 26)}`,
    vehicle: `p_${(i % 5000).toString(16).padStart(16, '0')}`,
    purpose: 'speed-profile',
    observedAt: 1_763_900_000_000 + i,
    signals: Object.fromEntries(
      Array.from({ length: 30 }, (_, k) => [`Vehicle.Signal.Group${k % 4}.Value${k}`, (i * (k + 1)) % 1000]),
    ),
  });
let senderUs = 0;
const digests: { payloadSha256: string; payloadBytes: number }[] = [];
if (BODIES) {
  const insert = db.prepare(
    `INSERT INTO egress_outbox (id, record_id, oem, purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, status, next_attempt_at)
     VALUES (?, ?, 'demo-oem', 'speed-profile', 'sha256:ab', ?, '[]', '[]', ?, 'delivered', 0)`,
  );
  const bodies: string[] = [];
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      bodies.push(bodyOf(i));
      insert.run(i, `019ab000-0000-7000-8000-${String(i).padStart(12, '0')}`, `p${i % 5000}`, bodies[i]);
    }
  })();
  // What the delivery worker does per send, timed apart (it runs in the egress thread, not here).
  const c0 = process.cpuUsage();
  for (const b of bodies)
    digests.push({
      payloadSha256: createHash('sha256').update(b, 'utf8').digest('hex'),
      payloadBytes: Buffer.byteLength(b, 'utf8'),
    });
  const c = process.cpuUsage(c0);
  senderUs = (c.user + c.system) / N;
  console.log(
    `bodies: ${N} outbox rows, ${Math.round(bodies.reduce((n, b) => n + b.length, 0) / N)} B each; the sender's digest ${senderUs.toFixed(1)} µs CPU each`,
  );
}
const batch = db.transaction((from: number, to: number) => {
  for (let i = from; i < to; i++) log.recordDelivery(i, BODIES ? { ...entry(i), payload: digests[i]! } : entry(i));
});
let t = performance.now();
const cpu0 = process.cpuUsage();
let lastReport = t;
for (let i = 0; i < N; i += BATCH) {
  batch(i, Math.min(N, i + BATCH));
  if (performance.now() - lastReport > 10_000) {
    lastReport = performance.now();
    console.error(`  ${i} appended…`);
  }
}
const secs = (performance.now() - t) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(
  `append: ${N} leaves (egress_log row + leaf + subtree nodes + frontier, ${BATCH} per transaction, synchronous=FULL) in ${secs.toFixed(1)} s = ${Math.round(N / secs)} leaves/s, ` +
    `${((cpu.user + cpu.system) / N).toFixed(1)} µs CPU per append (user + system, every thread)`,
);

// Proofs as the gateway serves them: over the asynchronous store.
const size = audit.auditTreeSize();
const o = inclusionProof(size - 1, size, { size, leafHash: (i) => audit.auditLeafHash(i)! });
t = performance.now();
inclusionProof(0, size, { size, leafHash: (i) => audit.auditLeafHash(i)! });
const linearMs = performance.now() - t;
db.close();
const store = openSqliteStore(file);
const src = await proofSource(store);
const root = await store.auditRoot();
const time = async (what: string, k: number, f: (i: number) => Promise<unknown>) => {
  const s = performance.now();
  for (let i = 0; i < k; i++) await f(i);
  const ms = (performance.now() - s) / k;
  console.log(`${what}: ${ms.toFixed(3)} ms each (mean of ${k})`);
};
let x = 12345;
const rnd = (m: number) => {
  x = (x * 1103515245 + 12345) % 2 ** 31;
  return x % m;
};
await time(`inclusion proof at ${size} leaves (generate + verify)`, 2000, async () => {
  const i = rnd(size);
  verifyInclusion(i, size, (await store.auditLeafHash(i))!, await inclusionProofAsync(i, size, src), root);
});
await time(`inclusion proof at a past size (generate)`, 2000, () => {
  const s = 1 + rnd(size);
  return inclusionProofAsync(rnd(s), s, src);
});
await time(`consistency proof (generate)`, 2000, () => {
  const b = 1 + rnd(size);
  return consistencyProofAsync(1 + rnd(b), b, src);
});
await time(`root at a past size`, 2000, () => rootAtAsync(1 + rnd(size), src));
console.log(
  `for comparison, O(n) inclusion proof from leaf hashes only: ${linearMs.toFixed(0)} ms (proof of ${o.length} hashes)`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });

// PostgreSQL: settled outcomes wait staged; the integrator moves them into the log and the tree
// in rounds of up to 5,000. How fast a round goes bounds "provable within N seconds".
// Run: node --import tsx bench/audit-append.ts N --pg [staged=20000] [postgres url]
if (process.argv.includes('--pg')) {
  const { openPostgresStore } = await import('../src/store/pg/index.js');
  const pg = (await import('pg')).default;
  const STAGED = Number(process.argv[process.argv.indexOf('--pg') + 1] ?? 20_000) || 20_000;
  const url = process.argv[process.argv.indexOf('--pg') + 2] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `shk_bench_integrate_${process.pid}`;
  const pgStore = await openPostgresStore({ url, schema, poolSize: 4 });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO "${schema}".egress_log_staged (staged_at, at, oem, destination, destination_ip, destination_country,
        record_id, pseudonym, purpose, policy_hash, fields_sent, fields_dropped, outcome, attempt, http_status, error,
        payload_sha256, payload_bytes)
       SELECT $1::bigint, $1::bigint + i, 'demo-oem', 'oem.example:443', '203.0.113.7', 'DE',
        '019ab000-0000-7000-8000-' || lpad(i::text, 12, '0'), 'p' || (i % 5000), 'speed-profile', 'sha256:' || repeat('ab', 32),
        '["Vehicle.Speed"]'::jsonb, '["Account.Owner.Name"]'::jsonb, 'delivered', 1, 200, NULL, repeat('cd', 32), 420
       FROM generate_series(1, $2::int) AS i`,
      [Date.now(), STAGED],
    );
    const rounds: number[] = [];
    const t0 = performance.now();
    for (;;) {
      const s = performance.now();
      const r = await pgStore.integrateEgressLog();
      if (r.integrated === 0) break;
      rounds.push(performance.now() - s);
    }
    const secs = (performance.now() - t0) / 1000;
    const size = await pgStore.auditTreeSize();
    console.log(
      `PostgreSQL integration: ${STAGED} staged entries into the log and tree in ${rounds.length} rounds of ≤ 5,000 in ${secs.toFixed(1)} s = ` +
        `${Math.round(STAGED / secs)} entries/s; a full round took ${Math.round(Math.max(...rounds))} ms at most ` +
        `(tree size ${size}); bound for one round's backlog: integrateIntervalMs + ${Math.round(Math.max(...rounds))} ms`,
    );
  } finally {
    await pgStore.close();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
}
