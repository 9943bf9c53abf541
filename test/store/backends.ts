/**
 * The conformance harness shared by every store suite (test/store/conformance*.test.ts): each
 * backend (SQLite in a temp file; PostgreSQL on the machine's server, one migrated schema per
 * file emptied between tests — see pgBackend —, every schema of the run dropped afterwards) and
 * builders for records, projections and egress-log entries.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { openPostgresStore } from '../../src/store/pg/index.js';
import type { CanonicalRecord, Projection } from '../../src/record.js';
import type { EgressLogEntry, EgressSettlement, IngestItem, OutboxRow, Store } from '../../src/store/types.js';
import { recordFacts } from '../../src/egress/record-facts.js';

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const DAY = 86_400_000;
export const T0 = Date.UTC(2030, 0, 15, 12);
export const VIN1 = 'LSHKZ000000000001';
export const VIN2 = 'LSHKZ000000000002';

/** A fresh, empty store of one backend, and ways to look at it as a second instance or directly. */
export interface Opened {
  store: Store;
  /** Another store on the same data (same file / same schema), as a second instance would open it. */
  second(): Promise<Store>;
  /** The stored policy decision of an outbox row, read around the Store interface. */
  decisionOf(recordId: string): Promise<unknown>;
  /** Names of route-point month partitions (PostgreSQL); [] where there are none. */
  partitions(): Promise<string[]>;
  /** One statement around the Store interface (`$1`, `$2`, … each used once, in order): its rows, or [] for a write. */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

export interface Backend {
  name: string;
  open(): Promise<Opened>;
  /** Two stores opened at the same moment on one new, empty location (two instances starting at once). */
  openPair(): Promise<Store[]>;
  /** Every store of the test just ended is closed: its location may be emptied and used again. */
  recycle?(): void;
  cleanup(): Promise<void>;
}

/** A row's decision as stored: in its shape (0140), or in the row itself (rows written before). */
const DECISION_OF = `SELECT COALESCE(s.decision, o.decision) AS decision FROM egress_outbox o
  LEFT JOIN egress_outbox_shapes s ON s.digest = o.shape WHERE o.record_id = ?`;

export const sqliteBackend = (): Backend => {
  const dirs: string[] = [];
  return {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(path.join(tmpdir(), 'shekara-conformance-'));
      dirs.push(dir);
      const file = path.join(dir, 'shekara.db');
      return {
        store: await openSqliteStore(file),
        second: async () => openSqliteStore(file),
        async decisionOf(recordId) {
          const db = new Database(file, { readonly: true });
          try {
            const row = db.prepare(DECISION_OF).get(recordId) as { decision: string | null };
            return row.decision === null ? null : JSON.parse(row.decision);
          } finally {
            db.close();
          }
        },
        partitions: async () => [],
        async sql(text, params = []) {
          const db = new Database(file);
          try {
            const stmt = db.prepare(text.replace(/\$\d+/g, '?'));
            if (stmt.reader) return stmt.all(...params) as Record<string, unknown>[];
            stmt.run(...params);
            return [];
          } finally {
            db.close();
          }
        },
      };
    },
    async openPair() {
      const dir = mkdtempSync(path.join(tmpdir(), 'shekara-conformance-'));
      dirs.push(dir);
      const file = path.join(dir, 'shekara.db');
      return Promise.all([openSqliteStore(file), openSqliteStore(file)]);
    },
    async cleanup() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
};

/** What a migrated schema held right after its first open: its tables, migrations, rows and sequences. */
interface Baseline {
  schema: string;
  tables: string;
  migrations: string;
  /** Tables with rows after the first open (a migration's seed, e.g. the auth decoy): their rows as JSON. */
  seeds: { table: string; rows: string }[];
  sequences: { name: string; last: string | null; called: boolean }[];
}

const q = (schema: string, name: string) => `"${schema}"."${name}"`;

async function baselineOf(c: pg.Client, schema: string): Promise<Baseline> {
  const tables = (
    await c.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [schema])
  ).rows.map((r) => r.t);
  const seeds: Baseline['seeds'] = [];
  for (const table of tables.filter((t) => t !== 'schema_migrations')) {
    const rows = (await c.query<{ j: string | null }>(`SELECT json_agg(x)::text AS j FROM ${q(schema, table)} x`))
      .rows[0]!.j;
    if (rows !== null) seeds.push({ table, rows });
  }
  const sequences = (
    await c.query<{ name: string; last: string | null }>(
      `SELECT sequencename AS name, last_value::text AS last FROM pg_sequences WHERE schemaname = $1`,
      [schema],
    )
  ).rows.map((r) => ({ ...r, called: r.last !== null }));
  return {
    schema,
    tables: tables.join(','),
    migrations: await migrationsOf(c, schema),
    seeds,
    sequences,
  };
}

const migrationsOf = async (c: pg.Client, schema: string) =>
  (await c.query<{ id: string }>(`SELECT id FROM ${q(schema, 'schema_migrations')} ORDER BY 1`)).rows
    .map((r) => r.id)
    .join(',');

/**
 * Empties a schema back to its baseline, in one transaction: every row deleted (triggers off, so
 * the append-only tables let go too), the seed rows put back, the sequences set back. Tens of
 * milliseconds, where creating and migrating a schema takes hundreds. False (and nothing
 * changed) if a test changed the schema itself (a table dropped, a partition dropped or added, a
 * migration record deleted): the caller makes a new one then.
 */
async function resetTo(c: pg.Client, b: Baseline): Promise<boolean> {
  const tables = (
    await c.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [b.schema])
  ).rows.map((r) => r.t);
  if (tables.join(',') !== b.tables || (await migrationsOf(c, b.schema)) !== b.migrations) return false;
  await c.query('BEGIN');
  try {
    await c.query('SET LOCAL session_replication_role = replica');
    for (const t of tables) if (t !== 'schema_migrations') await c.query(`DELETE FROM ${q(b.schema, t)}`);
    for (const { table, rows } of b.seeds) {
      await c.query(
        `INSERT INTO ${q(b.schema, table)} OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::${q(b.schema, table)}, $1)`,
        [rows],
      );
    }
    for (const s of b.sequences) {
      await c.query(
        s.called ? `SELECT setval($1, $2::bigint, true)` : `ALTER SEQUENCE ${q(b.schema, s.name)} RESTART`,
        s.called ? [q(b.schema, s.name), s.last] : [],
      );
    }
    await c.query('COMMIT');
    return true;
  } catch (err) {
    await c.query('ROLLBACK');
    throw err;
  }
}

/**
 * PostgreSQL on the machine's server. A test's first store gets the schema the file's previous
 * test used, emptied back to what its first open left (resetTo), once that test's stores are
 * closed (recycle); any further store in the same test, and openPair (instances migrating at
 * once), get a new schema, created and migrated as in production.
 */
export const pgBackend = (): Backend => {
  const run = `shk_conf_${process.pid}_${randomBytes(3).toString('hex')}`;
  const schemas: string[] = [];
  let free: Baseline | undefined; // emptied at the next open
  let inUse: Baseline | undefined; // this test's first store
  const admin = async <T>(f: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      return await f(c);
    } finally {
      await c.end();
    }
  };
  const newSchema = () => {
    const schema = `${run}_${schemas.length}`;
    schemas.push(schema);
    return schema;
  };
  return {
    name: 'PostgreSQL',
    async open() {
      const reuse = free;
      free = undefined;
      const fresh = reuse === undefined || !(await admin((c) => resetTo(c, reuse)));
      const schema = fresh ? newSchema() : reuse!.schema;
      const cfg = { url: PG_URL, schema, poolSize: 4 };
      const store = await openPostgresStore(cfg);
      if (inUse === undefined) inUse = fresh ? await admin((c) => baselineOf(c, schema)) : reuse;
      return {
        store,
        second: async () => openPostgresStore(cfg),
        decisionOf: (recordId) =>
          admin(async (c) => {
            await c.query(`SET search_path TO "${schema}"`);
            return (await c.query(DECISION_OF.replace('?', '$1'), [recordId])).rows[0].decision;
          }),
        partitions: () =>
          admin(async (c) =>
            (
              await c.query(
                `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = to_regclass($1) ORDER BY 1`,
                [`"${schema}".route_points`],
              )
            ).rows.map((r: { relname: string }) => r.relname),
          ),
        sql: (text, params = []) =>
          admin(async (c) => {
            await c.query(`SET search_path TO "${schema}"`);
            return (await c.query(text, params)).rows as Record<string, unknown>[];
          }),
      };
    },
    async openPair() {
      const cfg = { url: PG_URL, schema: newSchema(), poolSize: 2 };
      return Promise.all([openPostgresStore(cfg), openPostgresStore(cfg)]);
    },
    recycle() {
      free = inUse;
      inUse = undefined;
    },
    async cleanup() {
      await admin(async (c) => {
        for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      });
    },
  };
};

// ---- builders --------------------------------------------------------------------------

let seq = 0;
export const rid = () => `r${String(++seq).padStart(6, '0')}`;

export function record(
  o: {
    id?: string;
    vin?: string;
    receivedAt?: number;
    observedAt?: number;
    lat?: number;
    account?: Record<string, string>;
  } = {},
): CanonicalRecord {
  const at = o.receivedAt ?? T0;
  return {
    id: o.id ?? rid(),
    vin: o.vin ?? VIN1,
    oem: 'acme',
    channel: 'mqtt',
    receivedAt: at,
    observedAt: o.observedAt ?? at,
    signals: {
      'Vehicle.Speed': 54.2,
      'Vehicle.LowVoltageSystemState': 'ON',
      ...(o.lat === undefined
        ? {}
        : { 'Vehicle.CurrentLocation.Latitude': o.lat, 'Vehicle.CurrentLocation.Longitude': 71.4 }),
    },
    account: o.account ?? {},
    unknownKeys: ['x-extra'],
  };
}

export function projection(
  r: CanonicalRecord,
  o: { vehicle?: string; purpose?: string; oem?: string; decision?: Projection['decision'] } = {},
): Projection {
  return {
    recordId: r.id,
    deliveryId: `d_${r.id}/${o.oem ?? 'acme'}/${o.purpose ?? 'speed'}`,
    oem: o.oem ?? 'acme',
    purpose: o.purpose ?? 'speed',
    policyHash: 'sha256:aa',
    vehicle: o.vehicle ?? `p-${r.vin.slice(-3)}`,
    observedAt: r.observedAt,
    signals: { 'Vehicle.Speed': 54 },
    fieldsSent: ['Vehicle.Speed'],
    fieldsDropped: ['Vehicle.CurrentLocation.Latitude'],
    ...(o.decision ? { decision: o.decision } : {}),
  };
}

export const item = (r: CanonicalRecord, projections: Projection[] = []): IngestItem => ({
  kind: 'record',
  record: r,
  raw: Buffer.from(JSON.stringify({ id: r.id, v: 1 })),
  projections,
});

export function entry(row: OutboxRow, o: Partial<EgressLogEntry> = {}): EgressLogEntry {
  return {
    at: T0,
    oem: row.oem,
    destination: 'oem.example:443',
    destinationIp: '203.0.113.7',
    destinationCountry: 'DE',
    ...recordFacts(row),
    outcome: 'delivered',
    attempt: row.attempts + 1,
    httpStatus: 200,
    error: null,
    ...o,
  };
}

/** Commits one record per vehicle pseudonym given, each with one projection; returns the leased rows in record order. */
export async function outboxRows(store: Store, vehicles: string[], at = T0): Promise<OutboxRow[]> {
  const recs = vehicles.map(() => record({ receivedAt: at }));
  await store.commitIngest(recs.map((r, i) => item(r, [projection(r, { vehicle: vehicles[i] })])));
  const heads = await store.dueOutboxHeads(at + 1, 1_000);
  return recs.map((r) => heads.find((h) => h.recordId === r.id)).filter((x): x is OutboxRow => x !== undefined);
}

export const deliver = (store: Store, rows: OutboxRow[], o: Partial<EgressLogEntry> = {}) =>
  store.settleOutbox(
    rows.map((row): EgressSettlement => ({ kind: 'delivered', outboxId: row.id, entry: entry(row, o) })),
  );

export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** The fresh-store lifecycle of one backend inside a `describe.each(backends())`: every store opened is closed after each test. */
export function useBackend(backend: Backend) {
  const open: Store[] = [];
  let t: Opened | undefined;
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    backend.recycle?.();
  });
  afterAll(() => backend.cleanup());
  return {
    /** A fresh, empty store. */
    fresh: async () => {
      t = await backend.open();
      open.push(t.store);
      return t.store;
    },
    /** A second store on the last fresh one's data, as another instance. */
    second: async () => {
      const s = await t!.second();
      open.push(s);
      return s;
    },
    /** The last fresh store's handles (decisionOf, partitions). */
    opened: () => t!,
    /** Closes these stores after the test too (e.g. from `backend.openPair()`). */
    track: (...stores: Store[]) => {
      open.push(...stores);
    },
    /** A store the test closed itself: not closed again. */
    forget: (store: Store) => {
      open.splice(open.indexOf(store), 1);
    },
  };
}

/** Every backend the conformance suites run on. */
export const backends = (): Backend[] => [sqliteBackend(), pgBackend()];
