/**
 * The egress outbox in PostgreSQL, shared by every instance. Leases live in the row
 * (`lease_until`) and are taken with FOR UPDATE SKIP LOCKED, so two instances never lease the
 * same row; only the head of each vehicle's queue is due, as on SQLite (./sqlite.ts; the contract: ./types.ts).
 * A lease is written with synchronous_commit off: losing it in a server crash only makes the row
 * due again, which is what a lease expiring does anyway (at-least-once, same record id).
 */
import { inlineIntegers, type Db, type Sql, type Tx } from '../pg/db.js';
import type { PgEgressSettler } from '../egress-log/pg.js';
import type { Projection, ProjectionDecision } from '../../record.js';
import type {
  EgressQueueStore,
  EgressSettlement,
  OutboxDecisionStore,
  OutboxRow,
  OutboxStatus,
  OutboxStore,
} from './types.js';
import {
  OUTBOX_COLUMNS,
  OUTBOX_STORED_COLUMNS,
  outboxColumns,
  outboxValues,
  toOutbox,
  type OutboxDbRow,
} from './rows.js';
import { shapeCache, type ProjectionShape } from './shapes.js';
import { LOGGED, OUTCOMES, SETTLED, outcomeParams } from './pg-settle-sql.js';

export interface PgOutboxWriter {
  /** Adds approved projections, each due at its `dueAt`, in order. Inside the caller's transaction. */
  insert(t: Tx, rows: readonly { projection: Projection; dueAt: number; traceParent: string | null }[]): Promise<void>;
  /**
   * The outbox side of delivery outcomes (status, attempts, next attempt), in order. Inside the
   * caller's transaction. Resolves to the items applied: an outcome for a push row already
   * settled (SETTLED in ./pg-settle-sql.ts) is dropped, and the caller MUST NOT log a dropped item.
   */
  applyOutcomes(t: Tx, items: readonly EgressSettlement[]): Promise<EgressSettlement[]>;
}

/** The row's own columns (shape included) of `alias`, for a RETURNING that a SELECT of outboxColumns() reads. */
const prefixed = (alias: string) =>
  OUTBOX_STORED_COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');
/** A row of an earlier pending row of the same vehicle (per-vehicle order). */
const EARLIER = `SELECT 1 FROM egress_outbox p WHERE p.status = 'pending' AND p.oem = o.oem AND p.pseudonym = o.pseudonym AND p.id < o.id`;
const DUE = `o.status = 'pending' AND o.next_attempt_at <= $1 AND o.lease_until <= $1 AND NOT EXISTS (${EARLIER})`;
/**
 * The lease ($1 now, $2 limit, $3 lease end): the first `limit` due heads, locked and leased.
 * Run it after DUE_PLAN in its transaction.
 */
export const LEASE_DUE = `WITH picked AS (
    SELECT o.id FROM egress_outbox o WHERE ${DUE} ORDER BY o.next_attempt_at, o.id LIMIT $2 FOR UPDATE OF o SKIP LOCKED),
  leased AS (UPDATE egress_outbox e SET lease_until = $3 FROM picked WHERE e.id = picked.id RETURNING ${prefixed('e')}, e.next_attempt_at)
  SELECT ${OUTBOX_COLUMNS} FROM leased ORDER BY next_attempt_at, id`;
/**
 * The rows behind each head ($1 head ids in lease order, $2 how many per head): the vehicle's
 * next pending rows in id order, on egress_outbox_vehicle (oem, pseudonym, id), with their lease.
 * Not locked: chainsBehind leases them (an UPDATE, which waits for a row's lock and re-checks it).
 */
const BEHIND = `SELECT h.ord, ${outboxColumns('f')}, f.lease_until FROM unnest($1::bigint[]) WITH ORDINALITY AS h(id, ord)
  JOIN egress_outbox hh ON hh.id = h.id
  CROSS JOIN LATERAL (SELECT p.* FROM egress_outbox p WHERE p.status = 'pending' AND p.oem = hh.oem AND p.pseudonym = hh.pseudonym
    AND p.id > hh.id ORDER BY p.id LIMIT $2) f`;
/** The Kafka relay's lease ($1 now, $2 limit, $3 lease end), after DUE_PLAN: see leaseUnpublished. */
export const LEASE_UNPUBLISHED = `WITH picked AS (
    SELECT o.id FROM egress_outbox o WHERE o.status = 'pending' AND o.lease_until <= $1 AND NOT EXISTS (${EARLIER} AND p.lease_until > $1)
    ORDER BY o.id LIMIT $2 FOR UPDATE OF o SKIP LOCKED),
  leased AS (UPDATE egress_outbox e SET lease_until = $3 FROM picked WHERE e.id = picked.id RETURNING ${prefixed('e')})
  SELECT ${OUTBOX_COLUMNS} FROM leased ORDER BY id`;
/**
 * Settings for a read of due heads (SET LOCAL: its transaction only). The plan that scales walks
 * egress_outbox_due in lease order and stops after `limit` heads, one egress_outbox_vehicle
 * probe each. Without statistics (a new or burst-fed table before ANALYZE) the planner guesses a
 * dozen due rows and instead tests every due row, then sorts them: a pass over the whole backlog
 * per lease. Only the ordered walk needs no sort, so sorting is ruled out here. Ruling it out
 * adds a huge cost to the sort the statement cannot avoid (its result's ORDER BY), and past
 * jit_above_cost PostgreSQL compiles the statement with LLVM on every run: ~1 s of JIT for a
 * 10 ms lease. So JIT is off too. A lease's synchronous_commit is off (see the file's head).
 */
export const DUE_PLAN = `SELECT set_config('enable_sort', 'off', true), set_config('jit', 'off', true),
  set_config('synchronous_commit', 'off', true)`;

/**
 * Marks a vehicle's rows not yet delivered (pending, or published to Kafka and not yet settled)
 * as blocked: for one OEM purpose on a revocation or an objection, all of them on an erasure.
 * Inside the caller's transaction; resolves to how many. The rows are found through the
 * vehicle's records, so an erasure calls this before deleting them.
 *
 * The rows are locked in id order first (FOR UPDATE), so two blocking transactions wait for each
 * other rather than deadlock; a row another instance settles meanwhile is re-checked after that
 * commit and, if delivered (or dead), left as it is. A lease (or a settlement) of another
 * instance that commits after this MUST NOT reopen a blocked row: leases take only 'pending'
 * rows, outcomes change only 'pending'/'published' ones (OUTCOMES in ./pg-settle-sql.ts).
 */
export async function blockUndelivered(t: Sql, vin: string, only?: { oem: string; purpose: string }): Promise<number> {
  const [row] = await t.query<{ n: number }>(
    `WITH doomed AS (
      SELECT o.id FROM egress_outbox o
      WHERE o.status IN ('pending', 'published') AND o.record_id IN (SELECT r.id FROM records r WHERE r.vin = $1)
        AND ($2::text IS NULL OR (o.oem = $2 AND o.purpose = $3))
      ORDER BY o.id FOR UPDATE OF o),
    blocked AS (UPDATE egress_outbox e SET status = 'blocked', lease_until = 0 FROM doomed d WHERE e.id = d.id RETURNING 1)
    SELECT count(*) AS n FROM blocked`,
    [vin, only?.oem ?? null, only?.purpose ?? null],
  );
  return row!.n;
}

/**
 * Each head followed by its vehicle's next pending rows (up to `perVehicle` in all), cut before
 * the first row leased by someone else: nothing behind a leased row may go before it. With
 * `leaseUntil`, the rows kept are leased in this transaction (the caller's, which holds the
 * heads' leases: no other instance can take this vehicle's rows meanwhile, as none of them is a
 * head). A row no longer pending by then (blocked meanwhile) is left out; it is never sent, so
 * leaving it out keeps the order of what is.
 */
async function chainsBehind(
  t: Sql,
  heads: OutboxRow[],
  now: number,
  perVehicle: number,
  leaseUntil?: number,
): Promise<OutboxRow[]> {
  if (perVehicle <= 1 || heads.length === 0) return heads;
  const behind = await t.query<OutboxDbRow & { ord: number; lease_until: number }>(BEHIND, [
    heads.map((h) => h.id),
    perVehicle - 1,
  ]);
  // Per head (1-based ord), its rows in id order, up to the first leased one.
  behind.sort((a, b) => Number(a.ord) - Number(b.ord) || Number(a.id) - Number(b.id));
  const kept = new Map<number, OutboxRow[]>();
  const cut = new Set<number>();
  for (const r of behind) {
    const ord = Number(r.ord);
    if (cut.has(ord)) continue;
    if (Number(r.lease_until) > now) {
      cut.add(ord);
      continue;
    }
    let k = kept.get(ord);
    if (!k) kept.set(ord, (k = []));
    k.push(toOutbox(r));
  }
  const ids = [...kept.values()].flat().map((r) => r.id);
  let leased: ReadonlySet<number> | undefined;
  if (leaseUntil !== undefined && ids.length > 0) {
    leased = new Set(
      (
        await t.query<{ id: number }>(
          `UPDATE egress_outbox SET lease_until = $2 WHERE id = ANY($1::bigint[]) AND status = 'pending' RETURNING id`,
          [ids, leaseUntil],
        )
      ).map((r) => Number(r.id)),
    );
  }
  return heads.flatMap((h, i) => [h, ...(kept.get(i + 1) ?? []).filter((r) => !leased || leased.has(Number(r.id)))]);
}

export function pgOutbox(db: Db): OutboxStore & OutboxDecisionStore & PgOutboxWriter {
  const shapeOf = shapeCache(); // the projection's own, or made from its parts and hashed once per distinct shape
  return {
    async insert(t, rows) {
      if (rows.length === 0) return;
      const cols: unknown[][] = Array.from({ length: 10 }, () => []);
      // The batch's distinct shapes go with it, each once (ON CONFLICT: stored by an earlier batch
      // or by another instance). No cache of stored shapes here: the batch is one statement
      // whatever it holds, and a shape a few hundred rows share costs its bytes once.
      const batchShapes = new Map<string, ProjectionShape>();
      for (const { projection: p, dueAt, traceParent } of rows) {
        const shape = shapeOf(p);
        batchShapes.set(shape.digest, shape);
        outboxValues(p, traceParent, dueAt, shape.digest).forEach((v, i) => cols[i]!.push(v));
      }
      const s = [...batchShapes.values()];
      // A projection released late (trip hold-back) names an earlier record; if that record's own
      // commit failed it was never acknowledged and has nothing to carry, so the row is skipped.
      // The shapes are written in the same statement, so a row never names a shape not stored.
      await t.query(
        `WITH shapes AS (INSERT INTO egress_outbox_shapes (digest, fields_sent, fields_dropped, decision)
          SELECT decode(d, 'hex'), fs, fd, x FROM unnest($11::text[], $12::jsonb[], $13::jsonb[], $14::jsonb[]) AS s(d, fs, fd, x)
          ON CONFLICT (digest) DO NOTHING)
        INSERT INTO egress_outbox (record_id, delivery_id, oem, purpose, policy_hash, pseudonym, body, trace_parent, next_attempt_at, shape)
        SELECT v.record_id, v.delivery_id, v.oem, v.purpose, v.policy_hash, v.pseudonym, v.body, v.trace_parent, v.next_attempt_at, decode(v.shape, 'hex')
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[])
          WITH ORDINALITY AS v(record_id, delivery_id, oem, purpose, policy_hash, pseudonym, body, trace_parent, next_attempt_at, shape, ord)
        WHERE EXISTS (SELECT 1 FROM records r WHERE r.id = v.record_id) ORDER BY v.ord`,
        [
          ...cols,
          s.map((x) => x.digest),
          s.map((x) => x.fieldsSent),
          s.map((x) => x.fieldsDropped),
          s.map((x) => x.decision),
        ],
      );
    },
    async applyOutcomes(t, items) {
      // Feed positions are MAX + 1 under a transaction-level lock, not a sequence: a sequence
      // hands out numbers when asked, not in commit order, so a parker that drew 7 could commit
      // after one that drew 8 had been served and acknowledged, and the OEM's cursor would skip
      // 7 for ever. Under the lock, held to COMMIT, positions become visible in order, without
      // gaps, whichever instance parks (the unique index on feed_seq is the backstop).
      if (items.some((i) => i.kind === 'parked')) await t.lock('oem-feed');
      // Why this cannot deadlock: every path that waits for these locks takes them in one order,
      // 'oem-feed' (above, settles only), then outbox rows in id order (SETTLED here, in one
      // statement; blockUndelivered for a revocation, objection or erasure the same way), then
      // 'egress-log' (the caller's append, ../audit/pg.ts, and the revocation's or objection's leaf).
      // No path takes 'oem-feed' after a row, nor waits for a row while holding 'egress-log'
      // (the append only inserts, and reads bodies without a lock); leases skip locked rows
      // rather than wait. So two instances settling overlapping batches, in any item order,
      // wait for each other and never form a cycle. Holding every row before OUTCOMES also
      // means that statement waits for none. (Retention's delete of settled rows locks in no
      // particular order, as before; PostgreSQL would abort one side and the settle rejects whole.)
      const settledOf = async (ids: readonly number[]) =>
        new Set(
          (await t.query<{ id: number; settled: boolean }>(SETTLED, [ids])).filter((r) => r.settled).map((r) => r.id),
        );
      const live = (settled: ReadonlySet<number>) => (it: EgressSettlement) =>
        !(LOGGED.has(it.kind) && settled.has(it.outboxId));
      const run = (batch: readonly EgressSettlement[]) => t.query(OUTCOMES, outcomeParams(batch));
      const ids = [...new Set(items.map((i) => i.outboxId))];
      const settled = await settledOf(ids); // every row of the batch locked here, in id order
      // One statement for the batch, unless a row appears twice: then one each, in order, each
      // checked after the ones before it (its row is already ours: the re-read waits for nothing).
      if (ids.length === items.length) {
        const applied = items.filter(live(settled));
        if (applied.length > 0) await run(applied);
        return applied;
      }
      const applied: EgressSettlement[] = [];
      for (const it of items) {
        if (!live(await settledOf([it.outboxId]))(it)) continue;
        await run([it]);
        applied.push(it);
      }
      return applied;
    },
    // DUE_PLAN and the lease in one message (Sql.script): one round trip, and for heads alone
    // (perVehicle 1) no transaction held open between statements. Its settings must precede the
    // lease's planning, which a parameter of the same statement could not do.
    leaseDueOutbox: async (now, limit, leaseMs, perVehicle = 1) => {
      const lease = `${DUE_PLAN}; ${inlineIntegers(LEASE_DUE, [now, limit, now + leaseMs])}`;
      if (perVehicle <= 1) return (await db.script<OutboxDbRow>(lease)).map(toOutbox);
      return db.tx(async (t) => {
        const heads = (await t.script<OutboxDbRow>(lease)).map(toOutbox);
        return chainsBehind(t, heads, now, perVehicle, now + leaseMs);
      });
    },
    dueOutboxHeads: (now, limit, perVehicle = 1) =>
      db.tx(async (t) => {
        await t.query(DUE_PLAN);
        const heads = (
          await t.query<OutboxDbRow>(
            `SELECT ${outboxColumns('o')} FROM egress_outbox o WHERE ${DUE} ORDER BY o.next_attempt_at, o.id LIMIT $2`,
            [now, limit],
          )
        ).map(toOutbox);
        return chainsBehind(t, heads, now, perVehicle);
      }),
    nextDueAt: async () =>
      (
        await db.query<{ at: number | null }>(
          `SELECT MIN(GREATEST(next_attempt_at, lease_until)) AS at FROM egress_outbox WHERE status = 'pending'`,
        )
      )[0]?.at ?? undefined,
    projectionDecision: async (recordId, oem, purpose) =>
      (
        await db.query<{ decision: ProjectionDecision | null }>(
          `SELECT COALESCE(s.decision, o.decision) AS decision FROM egress_outbox o LEFT JOIN egress_outbox_shapes s ON s.digest = o.shape
          WHERE o.record_id = $1 AND o.oem = $2 AND o.purpose = $3`,
          [recordId, oem, purpose],
        )
      )[0]?.decision,
  };
}

/**
 * The egress queues' side of the outbox: the Kafka relay's reads and marks, and the one
 * transaction that settles a batch of delivery outcomes with their egress-log rows.
 */
export function pgEgressQueue(db: Db, log: PgEgressSettler): EgressQueueStore {
  return {
    // Relays of several instances may lease at once; a row whose vehicle has an earlier row
    // leased (being published by another relay) waits, so Kafka sees each vehicle in order.
    // The lock, DUE_PLAN (a walk in id order over egress_outbox_unpublished, as the lease's) and
    // the lease in one message (Sql.script): the 'relay' lock, which every instance's relay
    // waits for, is held for one round trip, not four.
    leaseUnpublished: async (now, limit, leaseMs) =>
      (
        await db.script<OutboxDbRow>(
          `${db.lockStatement('relay')}; ${DUE_PLAN}; ${inlineIntegers(LEASE_UNPUBLISHED, [now, limit, now + leaseMs])}`,
        )
      ).map(toOutbox),
    async markPublished(ids) {
      if (ids.length === 0) return;
      await db.query(
        `UPDATE egress_outbox SET status = 'published', lease_until = 0 WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
        [ids],
      );
    },
    outboxState: async (id) =>
      (
        await db.query<{ status: OutboxStatus; attempts: number }>(
          `SELECT status, attempts FROM egress_outbox WHERE id = $1`,
          [id],
        )
      )[0],
    outboxStates: async (ids) =>
      new Map(
        (
          await db.query<{ id: number; status: OutboxStatus; attempts: number }>(
            `SELECT id, status, attempts FROM egress_outbox WHERE id = ANY($1::bigint[])`,
            [ids],
          )
        ).map(({ id, status, attempts }) => [id, { status, attempts }]),
      ),
    outboxBacklog: async () =>
      (await db.query<{ n: number }>(`SELECT count(*) AS n FROM egress_outbox WHERE status = 'pending'`))[0]!.n,
    outboxBacklogByOem: async () =>
      (
        await db.query<{ oem: string; depth: number; oldest: string }>(
          // Pending rows from egress_outbox_vehicle, published ones from their own index (0120).
          `SELECT g.oem, g.depth, o.record_id AS oldest FROM (
             SELECT oem, sum(n)::int AS depth, min(first) AS first FROM (
               SELECT oem, count(*) AS n, min(id) AS first FROM egress_outbox WHERE status = 'pending' GROUP BY oem
               UNION ALL
               SELECT oem, count(*), min(id) FROM egress_outbox WHERE status = 'published' GROUP BY oem
             ) u GROUP BY oem
           ) g JOIN egress_outbox o ON o.id = g.first ORDER BY g.oem`,
        )
      ).map((r) => ({ oem: r.oem, depth: Number(r.depth), oldestRecordId: r.oldest })),
    async settleOutbox(items) {
      if (items.length > 0) await log.settleAlone(items);
    },
  };
}
