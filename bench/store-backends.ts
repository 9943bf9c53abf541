// Store backends side by side: durable ingest commits and egress settles (outbox
// status + egress-log row + Merkle leaf, one transaction per batch) on SQLite and PostgreSQL,
// and on PostgreSQL the same settles from two store instances at once (the egress-log lock).
// Run: node --import tsx bench/store-backends.ts [records=20000] [postgres url]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { openPostgresStore } from '../src/store/pg/index.js';
import type { IngestItem, OutboxRow, Store } from '../src/store/types.js';

const N = Number(process.argv[2] ?? 20_000);
const PG_URL = process.argv[3] ?? 'postgres://postgres@127.0.0.1:5432/test';
const INGEST_BATCH = 256; // ingest.commitMaxBatch default
const SETTLE_BATCH = 64;
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

/** Leases and settles until nothing is due; returns outcomes settled. */
async function settleAll(store: Store): Promise<number> {
  let n = 0;
  for (;;) {
    const rows = await store.leaseDueOutbox(T0 + 1, SETTLE_BATCH, 60_000);
    if (rows.length === 0) return n;
    await store.settleOutbox(rows.map((r) => ({ kind: 'delivered' as const, outboxId: r.id, entry: entry(r) })));
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

const dir = mkdtempSync(path.join(tmpdir(), 'shk-bench-store-'));
const schema = `shk_bench_${process.pid}`;
try {
  await measure('SQLite (synchronous=FULL)', async () => openSqliteStore(path.join(dir, 's.db')));
  await measure('PostgreSQL (synchronous_commit=on)', async () =>
    openPostgresStore({ url: PG_URL, schema, poolSize: 4 }),
  );
  // Two instances settling at once on a fresh schema.
  const schema2 = `${schema}_two`;
  const a = await openPostgresStore({ url: PG_URL, schema: schema2, poolSize: 4 });
  const b = await openPostgresStore({ url: PG_URL, schema: schema2, poolSize: 4 });
  await ingest(a);
  const t = performance.now();
  const [x, y] = await Promise.all([settleAll(a), settleAll(b)]);
  const rate = (x + y) / ((performance.now() - t) / 1000);
  console.log(
    `PostgreSQL, two instances settling at once: ${Math.round(rate)} outcomes/s together (${x} + ${y}), leaf indexes consecutive: ${(await a.auditTreeSize()) === N}`,
  );
  await a.close();
  await b.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  for (const s of [schema, `${schema}_two`]) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await c.end();
}
