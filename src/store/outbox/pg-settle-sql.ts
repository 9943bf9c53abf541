/**
 * The SQL of settling delivery outcomes into PostgreSQL's egress outbox: the statements and the
 * rules they share (which rows an outcome may change, which kinds are logged). ./pg.ts runs them;
 * ../egress-log/pg.ts stages the log entries of a one-statement settle (SETTLE_ROWS) beside them.
 */
import type { EgressSettlement } from './types.js';

// Outcomes change only rows still on their way: a row erasure blocked stays blocked. A row of
// the pull feed (store/oem-feed/pg.ts) is on its way until acknowledged: served ('delivered')
// or blocked at pull time, as on SQLite. 'parked' is SQLite's parkStatement: the row leaves the
// push queue (status 'pull', no attempt counted) and takes the next feed positions, numbered in
// batch order, only if it is still pending or published (locked, then numbered: no position is
// spent on a row that is not parked). The caller holds the 'oem-feed' lock (applyOutcomes).
/** An outcome's change to its row `o`, from `v` (kind, next): shared by OUTCOMES and SETTLE_ROWS. */
const OUTCOME_SET = `status = CASE v.kind WHEN 'delivered' THEN 'delivered' WHEN 'dead' THEN 'dead' WHEN 'blocked' THEN 'blocked' WHEN 'parked' THEN 'pull' ELSE o.status END,
    attempts = o.attempts + CASE WHEN v.kind IN ('deferred', 'parked') THEN 0 ELSE 1 END,
    next_attempt_at = CASE WHEN v.kind IN ('failed', 'deferred') THEN v.next ELSE o.next_attempt_at END,
    lease_until = 0`;
/** The rows an outcome other than 'parked' changes: on their way (push), or on the feed until acknowledged. */
const ON_ITS_WAY = `(o.status IN ('pending', 'published') OR (o.status IN ('pull', 'delivered') AND o.feed_seq IS NOT NULL))`;
export const OUTCOMES = `WITH v AS (SELECT id, kind, next, ord FROM unnest($1::bigint[], $2::text[], $3::bigint[]) WITH ORDINALITY AS v(id, kind, next, ord)),
  parkable AS (SELECT v.id, v.ord FROM v JOIN egress_outbox p ON p.id = v.id
    WHERE v.kind = 'parked' AND p.status IN ('pending', 'published') FOR UPDATE OF p),
  feed AS (SELECT id, (SELECT COALESCE(MAX(feed_seq), 0) FROM egress_outbox) + row_number() OVER (ORDER BY ord) AS seq FROM parkable)
  UPDATE egress_outbox o SET ${OUTCOME_SET},
    feed_seq = COALESCE(f.seq, o.feed_seq)
  FROM v LEFT JOIN feed f ON f.id = v.id
  WHERE o.id = v.id AND CASE WHEN v.kind = 'parked' THEN f.seq IS NOT NULL ELSE ${ON_ITS_WAY} END`;

// Locks the rows of a settlement (all of them, in id order) and names the push rows among them
// already settled: delivered or dead, by this batch's earlier items or by another consumer's
// settle (two instances after a consumer-group rebalance, a redelivered Kafka message) that
// committed first. An outcome for such a row is dropped, not logged: no record is
// processed twice into the egress log. A status read without the lock could be stale by the time
// this transaction commits; FOR UPDATE waits for a settle holding the row and, in READ COMMITTED,
// returns the row as that settle committed it, so the second of two concurrent settles sees
// 'delivered'. The status is tested in the select list, not in WHERE, so that every row is
// locked, whatever its status in this statement's snapshot. Feed rows (feed_seq set) keep their
// own rules (OUTCOMES); a blocked row is not settled: a delivery already on the wire is logged.
export const SETTLED = `SELECT id, (feed_seq IS NULL AND status IN ('delivered', 'dead')) AS settled FROM egress_outbox
  WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`;
/** The kinds that log an egress-log entry (and so are dropped for a settled row). */
export const LOGGED: ReadonlySet<EgressSettlement['kind']> = new Set(['delivered', 'failed', 'dead', 'blocked']);

/**
 * applyOutcomes in ONE statement, for a batch with no 'parked' item and no row named twice (the
 * caller checks: {@link settlesInOneStatement}): SETTLED, then OUTCOMES, as CTEs ($1 ids, $2
 * kinds, $3 next attempts). `applied` is the items kept, each with its item ordinal (`ord`, from
 * 1) and its row's stored body (NULL when the row is gone); the caller's next CTE stages their
 * entries from it. Why this is the same as the two statements:
 * - `locked` locks every row of the batch in id order (LockRows above the sort) before any row is
 *   changed, as SETTLED does: `applied` reads it whole, and the UPDATE changes only rows in it,
 *   which are ours by then, so the statement waits for nothing else (no deadlock, as above).
 * - a row another settle changed and committed while `locked` waited for it is returned as that
 *   settle committed it (READ COMMITTED re-reads a row it waited for, and `settled` is computed
 *   from that version); the UPDATE, whose scan sees the statement's snapshot, re-checks its WHERE
 *   on that version too before it changes the row. So the second of two settles sees 'delivered'.
 * - one statement is one transaction: the row changes and the staged entries commit together, or
 *   neither does.
 */
export const SETTLE_ROWS = `v AS MATERIALIZED (SELECT id, kind, next, ord FROM unnest($1::bigint[], $2::text[], $3::bigint[]) WITH ORDINALITY AS v(id, kind, next, ord)),
  locked AS MATERIALIZED (SELECT id, (feed_seq IS NULL AND status IN ('delivered', 'dead')) AS settled, body FROM egress_outbox
    WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE),
  applied AS MATERIALIZED (SELECT v.id, v.kind, v.next, v.ord, l.body FROM v LEFT JOIN locked l ON l.id = v.id
    WHERE NOT (v.kind IN ('delivered', 'failed', 'dead', 'blocked') AND COALESCE(l.settled, false))),
  changed AS (UPDATE egress_outbox o SET ${OUTCOME_SET} FROM applied v WHERE o.id = v.id AND ${ON_ITS_WAY} RETURNING o.id)`;

/** Whether a batch of outcomes settles in one statement (SETTLE_ROWS): no row named twice, none parked. */
export const settlesInOneStatement = (items: readonly EgressSettlement[]): boolean =>
  !items.some((i) => i.kind === 'parked') && new Set(items.map((i) => i.outboxId)).size === items.length;

/** SETTLE_ROWS' and OUTCOMES' first three parameters: ids, kinds, next attempt times. */
export const outcomeParams = (batch: readonly EgressSettlement[]): unknown[] => [
  batch.map((i) => i.outboxId),
  batch.map((i) => i.kind),
  batch.map((i) => (i.kind === 'failed' ? i.nextAttemptAt : i.kind === 'deferred' ? i.until : null)),
];
