/**
 * The egress log on PostgreSQL, sequenced in batches (as transparency logs do: Tessera).
 *
 * Settle: the outbox status changes and each outcome's entry (with the digest of its body) are
 * written to egress_log_staged in the caller's transaction, and only for outcomes the outbox
 * applied (a push row settled once is never logged again). No lock is taken: instances settle
 * side by side. The outcome MUST be durable when that transaction commits; it is.
 *
 * Integrate: one round at a time across every instance (the 'egress-log' advisory lock, tried,
 * not waited for), the staged entries move, in staging order, into egress_log with consecutive
 * `seq` and their Merkle leaves (../audit/pg.ts) — row, leaf and the staged row's deletion in one
 * transaction, so an entry is never lost nor integrated twice. Readers of the log catch up
 * first (`catchUpEgressLog`): what was settled before a read is in the log it reads.
 */
import type { PgMigration } from '../pg/migrate.js';
import { pgText, type Db, type Tx } from '../pg/db.js';
import type { PgOutboxWriter } from '../outbox/pg.js';
import { SETTLE_ROWS, outcomeParams, settlesInOneStatement } from '../outbox/pg-settle-sql.js';
import { APPEND_ONLY_FUNCTION, appendOnlyTriggers, type PgTreeWriter } from '../audit/pg.js';
import { egressLeaf } from '../../audit/leaf.js';
import type { EgressLogEntry, EgressLogIntegrator, EgressLogStore } from './types.js';
import type { EgressSettlement } from '../outbox/types.js';
import { ENTRY_COLUMNS, egressLogFilter, entryPayload, entryValues, toLogRow, type LogDbRow } from './rows.js';
import { pgParams } from '../sql-filter.js';

export const EGRESS_LOG_MIGRATIONS: PgMigration[] = [
  {
    id: '0004-egress-log',
    sql: `
  -- Every delivery, failed attempt and dead letter. Append-only; holds no personal data.
  CREATE TABLE egress_log (
    seq            BIGINT PRIMARY KEY,
    at             BIGINT NOT NULL,
    oem            TEXT NOT NULL,
    destination    TEXT NOT NULL,
    destination_ip TEXT,
    destination_country TEXT,
    record_id      TEXT NOT NULL,
    pseudonym      TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    policy_hash    TEXT NOT NULL,
    fields_sent    JSONB NOT NULL,
    fields_dropped JSONB NOT NULL,
    outcome        TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    http_status    INTEGER,
    error          TEXT
  );
  CREATE INDEX egress_log_record ON egress_log (record_id);
  ${APPEND_ONLY_FUNCTION}
  ${appendOnlyTriggers('egress_log')}`,
  },
  {
    // The trace of each attempt (docs/observability.md): telemetry metadata next to the row,
    // deliberately outside the Merkle leaf (audit/leaf.ts picks the leaf's fields by name).
    id: '0041-egress-log-trace-id',
    sql: `ALTER TABLE egress_log ADD COLUMN trace_id TEXT;`,
  },
  {
    // Outcomes settled but not yet in the log: written in the outcome's transaction without any
    // lock, moved into egress_log (seq, leaf index, tree) by the integrator in batches. Not
    // append-only: the integrator deletes what it moved, in the transaction that moved it.
    id: '0045-egress-log-staged',
    sql: `
  CREATE TABLE egress_log_staged (
    id             BIGSERIAL PRIMARY KEY,
    staged_at      BIGINT NOT NULL,
    at             BIGINT NOT NULL,
    oem            TEXT NOT NULL,
    destination    TEXT NOT NULL,
    destination_ip TEXT,
    destination_country TEXT,
    record_id      TEXT NOT NULL,
    pseudonym      TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    policy_hash    TEXT NOT NULL,
    fields_sent    JSONB NOT NULL,
    fields_dropped JSONB NOT NULL,
    outcome        TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    http_status    INTEGER,
    error          TEXT,
    payload_sha256 TEXT,
    payload_bytes  INTEGER,
    trace_id       TEXT
  );`,
  },
  {
    // The id the OEM saw (src/policy/delivery-id.ts): maps an OEM's or a regulator's delivery id
    // back to the record, in the country. Outside the Merkle leaf, like trace_id: the leaf's
    // payload digest covers the body, which carries it.
    id: '0061-egress-log-delivery-id',
    sql: `
  ALTER TABLE egress_log ADD COLUMN delivery_id TEXT;
  ALTER TABLE egress_log_staged ADD COLUMN delivery_id TEXT;
  CREATE INDEX egress_log_delivery ON egress_log (delivery_id) WHERE delivery_id IS NOT NULL;`,
  },
];

/** Columns of an egress-log row as read back (toLogRow's input). */
export const LOG_COLUMNS = `e.seq, e.at, e.oem, e.destination, e.destination_ip, e.destination_country, e.record_id, e.pseudonym, e.purpose,
  e.policy_hash, e.fields_sent, e.fields_dropped, e.outcome, e.attempt, e.http_status, e.error, e.payload_sha256, e.payload_bytes, e.trace_id,
  e.delivery_id`;

export interface PgEgressSettler {
  /** Status changes and staged egress-log entries of a batch of outcomes, inside the caller's transaction. */
  settle(t: Tx, items: readonly EgressSettlement[]): Promise<void>;
  /**
   * The same in a transaction of its own, durable when it resolves: ONE statement (one round
   * trip, no transaction held open between statements) when the batch allows it
   * (`settlesInOneStatement`), else `settle` in `db.tx`.
   */
  settleAlone(items: readonly EgressSettlement[]): Promise<void>;
}

/** Staged entries one integration round moves into the log at most. */
export const INTEGRATION_BATCH = 5_000;

/** One staged outcome: its entry and the digest of its body, fixed when it was settled. */
interface Staged {
  readonly entry: EgressLogEntry;
  readonly payloadSha256: string | null;
  readonly payloadBytes: number | null;
}

const STAGED_COLUMNS = ENTRY_COLUMNS;
const STAGED_TYPES = `$2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
  $11::jsonb[], $12::jsonb[], $13::text[], $14::int[], $15::int[], $16::text[], $17::text[], $18::int[], $19::text[], $20::text[]`;

/**
 * A batch's whole settlement as ONE statement (../outbox/pg.ts SETTLE_ROWS, then the staging):
 * $1-$3 the outcomes, $4 staged_at, $5 the ordinal (from 1) of each item that has an entry, $6
 * whether it came with its sender's digest, $7-$25 those entries (STAGED_COLUMNS). Only the
 * entries of applied items are staged, in item order (the BIGSERIAL follows the ORDER BY). An
 * entry without its sender's digest gets the digest of its row's body as stored, hashed here (the
 * UTF-8 bytes of the text, as `payloadDigest` hashes them), NULL when the row is gone: what
 * `stage` does in two statements.
 */
const SETTLE_ONE_STATEMENT = `WITH ${SETTLE_ROWS},
  staged AS (INSERT INTO egress_log_staged (staged_at, ${STAGED_COLUMNS})
    SELECT $4::bigint, s.at, s.oem, s.destination, s.destination_ip, s.destination_country, s.record_id, s.pseudonym, s.purpose,
      s.policy_hash, s.fields_sent, s.fields_dropped, s.outcome, s.attempt, s.http_status, s.error,
      CASE WHEN s.own THEN s.payload_sha256 ELSE encode(sha256(convert_to(a.body, 'UTF8')), 'hex') END,
      CASE WHEN s.own THEN s.payload_bytes ELSE octet_length(convert_to(a.body, 'UTF8')) END, s.trace_id, s.delivery_id
    FROM unnest($5::bigint[], $6::boolean[], ${STAGED_TYPES.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + 5}`)})
      AS s(item, own, ${STAGED_COLUMNS})
    JOIN applied a ON a.ord = s.item ORDER BY s.item RETURNING 1)
  SELECT (SELECT count(*) FROM changed)::int AS changed, (SELECT count(*) FROM staged)::int AS staged`;

/** Column arrays (unnest's input) for the staged columns, in STAGED_COLUMNS order. */
const stagedColumns = (items: readonly Staged[]): unknown[][] => {
  const cols: unknown[][] = Array.from({ length: 19 }, () => []);
  for (const { entry: e, payloadSha256, payloadBytes } of items)
    entryValues(e, payloadSha256, payloadBytes).forEach((v, c) => cols[c]!.push(v));
  return cols;
};

export function pgEgressLog(
  db: Db,
  outbox: PgOutboxWriter,
  tree: PgTreeWriter,
  now: () => number = Date.now,
): EgressLogStore & PgEgressSettler & EgressLogIntegrator {
  /** Settle side: the entries wait in egress_log_staged, in the outcome's transaction, without a lock. */
  const stage = async (t: Tx, items: readonly { outboxId: number; entry: EgressLogEntry }[]) => {
    if (items.length === 0) return;
    // The digest and length of the exact body POSTed (or that would have been): never the body.
    // Bodies are read only for entries that came without their sender's digest.
    const unsigned = items.filter((i) => !i.entry.payload).map((i) => i.outboxId);
    const bodies = new Map(
      unsigned.length === 0
        ? []
        : (
            await t.query<{ id: number; body: string }>(
              `SELECT id, body FROM egress_outbox WHERE id = ANY($1::bigint[])`,
              [unsigned],
            )
          ).map((r) => [r.id, r.body]),
    );
    const staged: Staged[] = items.map(({ outboxId, entry }) => ({
      // PostgreSQL text cannot hold U+0000: the error is stored (and hashed) as stored.
      entry: { ...entry, error: entry.error === null ? null : pgText(entry.error) },
      ...entryPayload(entry, () => bodies.get(outboxId)),
    }));
    await t.query(
      `INSERT INTO egress_log_staged (staged_at, ${STAGED_COLUMNS}) SELECT $1::bigint, * FROM unnest(${STAGED_TYPES})`,
      [now(), ...stagedColumns(staged)],
    );
  };

  /** Integrator side, under the 'egress-log' lock: seq and leaf index, in staging order, then the tree. */
  const append = async (t: Tx, items: readonly Staged[]) => {
    await tree.appendLeaves(t, 'egress', async (first) => {
      const [{ next }] = (await t.query<{ next: number }>(
        `SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM egress_log`,
      )) as [{ next: number }];
      const seqs = items.map((_, i) => next + i);
      await t.query(
        `INSERT INTO egress_log (seq, leaf_index, ${STAGED_COLUMNS})
        SELECT * FROM unnest($1::bigint[], $21::bigint[], ${STAGED_TYPES})`,
        [seqs, ...stagedColumns(items), seqs.map((_, i) => first + i)],
      );
      return items.map(({ entry, payloadSha256, payloadBytes }, i) => ({
        ref: seqs[i]!,
        entry: egressLeaf({ ...entry, seq: seqs[i]!, payloadSha256, payloadBytes }, first + i),
      }));
    });
  };

  /** Under the 'egress-log' lock, in the caller's transaction: up to `max` staged entries into the log. */
  const integrateIn = async (t: Tx, max: number) => {
    const rows = await t.query<StagedDbRow>(
      `DELETE FROM egress_log_staged WHERE id IN (SELECT id FROM egress_log_staged ORDER BY id LIMIT $1)
        RETURNING id, staged_at, ${STAGED_COLUMNS}`,
      [max],
    );
    if (rows.length === 0) return { integrated: 0, oldestStagedAt: null, leader: true };
    rows.sort((a, b) => a.id - b.id);
    await append(
      t,
      rows.map((r) => ({ entry: entryOf(r), payloadSha256: r.payload_sha256, payloadBytes: r.payload_bytes })),
    );
    return {
      integrated: rows.length,
      oldestStagedAt: rows.reduce((m, r) => Math.min(m, r.staged_at), Infinity),
      leader: true,
    };
  };
  tree.setBeforeEvent(async (t) => {
    while ((await integrateIn(t, INTEGRATION_BATCH)).integrated === INTEGRATION_BATCH);
  });

  const integrate: EgressLogIntegrator['integrateEgressLog'] = (opts = {}) =>
    db.tx(async (t) => {
      // The integrator of this round is whoever holds the log's lock; the others skip it (or,
      // catching up before a read, wait for it). A crashed integrator's transaction rolls
      // back and frees the lock: the next round of any instance takes over, nothing is lost.
      if (opts.wait) await t.lock('egress-log');
      else if (!(await t.tryLock('egress-log'))) return { integrated: 0, oldestStagedAt: null, leader: false };
      return integrateIn(t, opts.max ?? INTEGRATION_BATCH);
    });

  /** Read your writes: every outcome staged before this call is in the log when it resolves. */
  const catchUp = async () => {
    const [r] = await db.query<{ last: number | null }>(`SELECT max(id) AS last FROM egress_log_staged`);
    if (r?.last === null || r?.last === undefined) return;
    for (let round = 0; round < 1_000; round++) {
      const [o] = await db.query<{ first: number | null }>(`SELECT min(id) AS first FROM egress_log_staged`);
      if (o?.first === null || o?.first === undefined || o.first > r.last) return;
      await integrate({ wait: true });
    }
  };

  const settle: PgEgressSettler['settle'] = async (t, items) => {
    // Only what was applied is logged: an outcome for a row another settle already delivered
    // (or dead-lettered) leaves no second entry (../outbox/pg.ts SETTLED).
    const applied = await outbox.applyOutcomes(t, items);
    await stage(
      t,
      applied.flatMap((it) =>
        it.kind === 'deferred' || it.kind === 'parked' ? [] : [{ outboxId: it.outboxId, entry: it.entry }],
      ),
    );
  };
  const settleAlone: PgEgressSettler['settleAlone'] = async (items) => {
    if (items.length === 0) return;
    if (!settlesInOneStatement(items)) return db.tx((t) => settle(t, items));
    // The items that log an entry ('deferred' has none), with their ordinals in the batch.
    const logged = items.flatMap((it, i) => ('entry' in it ? [{ entry: it.entry, ord: i + 1 }] : []));
    const staged = logged.map(({ entry }) => {
      return {
        entry: { ...entry, error: entry.error === null ? null : pgText(entry.error) },
        own: entry.payload !== undefined,
        payloadSha256: entry.payload?.payloadSha256 ?? null,
        payloadBytes: entry.payload?.payloadBytes ?? null,
      };
    });
    // On the pool, outside any transaction: the statement is its own transaction, committed
    // (synchronous_commit=on, src/store/pg/db.ts) before the server answers it.
    await db.query(SETTLE_ONE_STATEMENT, [
      ...outcomeParams(items),
      now(),
      logged.map((l) => l.ord),
      staged.map((x) => x.own),
      ...stagedColumns(staged),
    ]);
  };
  const one = (it: EgressSettlement) => settleAlone([it]);

  return {
    settle,
    settleAlone,
    integrateEgressLog: integrate,
    catchUpEgressLog: catchUp,
    async egressLogStaged() {
      const [r] = await db.query<{ n: number; oldest: number | null }>(
        `SELECT count(*)::int AS n, min(staged_at) AS oldest FROM egress_log_staged`,
      );
      return { staged: r?.n ?? 0, oldestStagedAt: r?.oldest ?? null };
    },
    recordDelivery: (outboxId, entry) => one({ kind: 'delivered', outboxId, entry }),
    recordFailedAttempt: (outboxId, entry, nextAttemptAt) => one({ kind: 'failed', outboxId, entry, nextAttemptAt }),
    recordDeadLetter: (outboxId, entry) => one({ kind: 'dead', outboxId, entry }),
    async listEgressLog(filter) {
      await catchUp();
      const { args, param } = pgParams();
      const { where, limit } = egressLogFilter(filter, param);
      const sql = `SELECT ${LOG_COLUMNS} FROM egress_log e ${where} ORDER BY e.seq LIMIT ${limit}`;
      return (await db.query<LogDbRow>(sql, args)).map(toLogRow);
    },
  };
}

/** A staged row's entry, exactly as it was settled (the leaf hashes these fields). */
function entryOf(r: StagedDbRow): EgressLogEntry {
  const { seq: _seq, ...entry } = toLogRow({ ...r, seq: 0 });
  return entry;
}

interface StagedDbRow extends Omit<LogDbRow, 'seq'> {
  id: number;
  staged_at: number;
}
