/**
 * The PostgreSQL outbox's reads of due heads scale with what they return, not with the backlog:
 * counted in the rows the executor reads (EXPLAIN ANALYZE), never in time. A lease of 64 on
 * 20,000 pending rows once read every earlier row of the OEM per candidate (the per-vehicle test
 * ran on an (oem, id) index) and another pass over the whole backlog to sort it: settlement fell
 * from 5,295 to 85 outcomes/s (bench/store-backends.ts). The plan is checked on a table the
 * planner has no statistics for (as a new or burst-fed table is before ANALYZE) and after ANALYZE.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/pg/index.js';
import { DUE_PLAN, LEASE_DUE, LEASE_UNPUBLISHED } from '../../src/store/outbox/pg.js';
import type { Store } from '../../src/store/types.js';
import { PG_URL, T0, item, projection, record } from './backends.js';

const BACKLOG = 2_000; // pending rows, one per vehicle (as the bench)
const LIMIT = 64;
const schema = `shk_plan_${process.pid}_${randomBytes(3).toString('hex')}`;
let store: Store;
let client: pg.Client;

beforeAll(async () => {
  store = await openPostgresStore({ url: PG_URL, schema, poolSize: 2 });
  for (let i = 0; i < BACKLOG; i += 500) {
    const recs = Array.from({ length: 500 }, (_, k) => record({ vin: `LSHKZ${String(i + k).padStart(12, '0')}` }));
    await store.commitIngest(recs.map((r, k) => item(r, [projection(r, { vehicle: `p${i + k}` })])));
  }
  client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`SET search_path TO "${schema}"`);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await client?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client?.end();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Subplan Name'?: string;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Outbox rows the executor read (returned or filtered out) in every scan of egress_outbox under `n`. */
const rowsRead = (n: PlanNode): number =>
  (n['Relation Name'] === 'egress_outbox'
    ? (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) *
      n['Actual Loops']
    : 0) + (n.Plans ?? []).reduce((sum, c) => sum + rowsRead(c), 0);
/** The pick: the part of a lease that finds the due heads (the update after it touches only those). */
const pick = (n: PlanNode): PlanNode | undefined =>
  n['Subplan Name'] === 'CTE picked' ? n : (n.Plans ?? []).map(pick).find((p) => p !== undefined);

/** Runs a statement as the store does (DUE_PLAN first, in one transaction), rolled back; its plan and rows. */
async function explain(sql: string, values: unknown[]): Promise<{ read: number; returned: number; plan: string }> {
  await client.query('BEGIN');
  try {
    await client.query(DUE_PLAN);
    const [{ 'QUERY PLAN': out }] = (await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, values)).rows as [
      { 'QUERY PLAN': [{ Plan: PlanNode; JIT?: unknown }] },
    ];
    const plan = out[0].Plan;
    // The whole output: with JIT it names the compilation beside the plan.
    return { read: rowsRead(pick(plan)!), returned: plan['Actual Rows'], plan: JSON.stringify(out[0]) };
  } finally {
    await client.query('ROLLBACK');
  }
}

const lease = () => explain(LEASE_DUE, [T0 + 1, LIMIT, T0 + 60_001]);
const relay = () => explain(LEASE_UNPUBLISHED, [T0 + 1, LIMIT, T0 + 60_001]);

describe('PostgreSQL outbox: due heads read in lease order, not the backlog', () => {
  // Per leased row: its due-index entry, its vehicle probe and its update, with room to spare;
  // a pass over the 2,000-row backlog (or per-row scans of it) is far above.
  const BOUND = 6 * LIMIT;

  it('a lease of 64 reads a few rows per row leased, before the table has statistics', async () => {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_stats WHERE schemaname = $1 AND tablename = 'egress_outbox'`,
      [schema],
    );
    expect(rows[0].n).toBe(0); // the planner works from defaults, as before the first ANALYZE
    const r = await lease();
    expect(r.returned).toBe(LIMIT);
    expect(r.read, r.plan).toBeLessThan(BOUND);
    expect(r.plan).not.toContain('egress_outbox_undelivered');
  });

  it('no read of due heads is compiled by JIT: it would cost more than the read', async () => {
    for (const r of [await lease(), await relay()]) expect(r.plan).not.toContain('"JIT"');
  });

  // The relay's per-vehicle test also asks for a leased earlier row: PostgreSQL may read the
  // pending rows once per lease to find the leased ones (linear), but never once per candidate.
  const ONE_PASS = 2 * BACKLOG;

  it("the Kafka relay's lease reads the backlog at most once, before the table has statistics", async () => {
    const r = await relay();
    expect(r.returned).toBe(LIMIT);
    expect(r.read, r.plan).toBeLessThan(ONE_PASS);
  });

  it('both stay so after ANALYZE', async () => {
    await client.query('ANALYZE egress_outbox');
    const [l, k] = [await lease(), await relay()];
    expect([l.returned, k.returned]).toEqual([LIMIT, LIMIT]);
    expect(l.read, l.plan).toBeLessThan(BOUND);
    expect(k.read, k.plan).toBeLessThan(ONE_PASS);
  });

  it('the backlog per OEM counts pending and published rows and names the oldest', async () => {
    const before = await store.outboxBacklogByOem();
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ oem: 'acme', depth: BACKLOG });
    const rows = await store.leaseUnpublished(T0 + 1, 10, 60_000);
    await store.markPublished(rows.map((r) => r.id));
    const other = record({ vin: 'LSHKZ999999999999' });
    await store.commitIngest([item(other, [projection(other, { oem: 'beta', vehicle: 'q1' })])]);
    const after = await store.outboxBacklogByOem();
    expect(after).toEqual([
      { oem: 'acme', depth: BACKLOG, oldestRecordId: before[0]!.oldestRecordId },
      { oem: 'beta', depth: 1, oldestRecordId: other.id },
    ]);
    expect(await store.outboxBacklog()).toBe(BACKLOG - 10 + 1); // pending only
  });
});
