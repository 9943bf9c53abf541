/**
 * The egress log in SQLite (the contract: ./types.ts): each outcome's row and its Merkle leaf,
 * written in the settle transaction with the outbox status change.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { EgressLogEntry, EgressLogStore } from './types.js';
import type { EgressSettlement } from '../outbox/types.js';
import type { OutboxWriter } from '../outbox/sqlite.js';
import type { AuditTreeWriter } from '../audit/sqlite.js';
import { egressLeaf } from '../../audit/leaf.js';
import type { Sync } from '../sqlite/sync.js';
import { ENTRY_COLUMNS, egressLogFilter, entryPayload, entryValues, toLogRow, type LogDbRow } from './rows.js';
import { sqliteParams } from '../sql-filter.js';

export const EGRESS_LOG_MIGRATIONS: Migration[] = [
  {
    id: '0004-egress-log',
    sql: `
  -- Every delivery, failed attempt and dead letter. Append-only; holds no personal data.
  CREATE TABLE egress_log (
    seq            INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    oem            TEXT NOT NULL,
    destination    TEXT NOT NULL,
    destination_ip TEXT,
    destination_country TEXT,
    record_id      TEXT NOT NULL,
    pseudonym      TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    policy_hash    TEXT NOT NULL,
    fields_sent    TEXT NOT NULL,
    fields_dropped TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    http_status    INTEGER,
    error          TEXT
  ) STRICT;
  CREATE INDEX egress_log_record ON egress_log (record_id);
  CREATE TRIGGER egress_log_no_update BEFORE UPDATE ON egress_log
    BEGIN SELECT RAISE(ABORT, 'egress_log is append-only'); END;
  CREATE TRIGGER egress_log_no_delete BEFORE DELETE ON egress_log
    BEGIN SELECT RAISE(ABORT, 'egress_log is append-only'); END;`,
  },
  {
    // The trace of each attempt (docs/observability.md): telemetry metadata next to the row,
    // deliberately outside the Merkle leaf (audit/leaf.ts picks the leaf's fields by name).
    id: '0041-egress-log-trace-id',
    sql: `ALTER TABLE egress_log ADD COLUMN trace_id TEXT;`,
  },
  {
    // The id the OEM saw (src/policy/delivery-id.ts): maps an OEM's or a regulator's delivery id
    // back to the record, in the country. Outside the Merkle leaf, like trace_id: the leaf's
    // payload digest covers the body, which carries it.
    id: '0061-egress-log-delivery-id',
    sql: `ALTER TABLE egress_log ADD COLUMN delivery_id TEXT;
  CREATE INDEX egress_log_delivery ON egress_log (delivery_id) WHERE delivery_id IS NOT NULL;`,
  },
];

/** The outcomes that cross (or were meant to) and so are logged: all but 'deferred' and 'parked'. */
export type LoggedSettlement = Extract<EgressSettlement, { readonly entry: EgressLogEntry }>;

export interface EgressLogSettler {
  /**
   * One logged outcome: the outbox status change and its egress-log row, inside the caller's
   * transaction (settleOutbox's batch). An outcome for a push row already delivered or dead
   * (a second consumer's, a redelivered message's) changes nothing and MUST NOT be logged:
   * no record is processed twice into the egress log. SQLite's write lock (one writer at a time) makes
   * the check and the write one step; PostgreSQL locks the rows (store/outbox/pg.ts SETTLED).
   */
  settleLogged(it: LoggedSettlement): void;
}

/**
 * Every row of egress_log enters through `append` (and only there, through `settleLogged`): the
 * row and its Merkle leaf (../audit/sqlite.ts, RFC 9162 §2.1.1) are written in the caller's
 * transaction, together with the outbox status change. A row without a leaf, or a leaf without a
 * row, cannot commit.
 */
export function sqliteEgressLog(
  db: Database.Database,
  outbox: OutboxWriter,
  tree: AuditTreeWriter,
): Sync<EgressLogStore> & EgressLogSettler {
  // Positional parameters: binding 20 values by name costs a lookup each and an object spread per row.
  const insert = db.prepare(
    `INSERT INTO egress_log (${ENTRY_COLUMNS}, leaf_index) VALUES (${Array(20).fill('?').join(', ')})`,
  );
  const bodyOf = db.prepare(`SELECT body FROM egress_outbox WHERE id = ?`).pluck();
  const append = (outboxId: number, e: EgressLogEntry) => {
    // The sender's digest when it came with one: then the ~1 KB body is not read again here.
    const { payloadSha256, payloadBytes } = entryPayload(e, () => bodyOf.get(outboxId) as string | undefined);
    tree.appendLeaf('egress', (index) => {
      const seq = Number(insert.run(...entryValues(e, payloadSha256, payloadBytes), index).lastInsertRowid);
      return { ref: seq, entry: egressLeaf({ ...e, seq, payloadSha256, payloadBytes }, index) };
    });
  };
  backfillLeaves(db, tree);

  // Inside a caller's transaction (settleOutbox's batch) they join it directly, without a savepoint each.
  const inTx = <A extends unknown[]>(f: (...a: A) => void) => {
    const tx = db.transaction(f);
    return (...a: A) => (db.inTransaction ? f(...a) : tx(...a));
  };
  const settleLogged = (it: LoggedSettlement) => {
    const id = it.outboxId;
    if (outbox.isSettled(id)) return;
    switch (it.kind) {
      case 'delivered':
        outbox.markDelivered(id);
        break;
      case 'failed':
        outbox.markFailed(id, it.nextAttemptAt);
        break;
      case 'dead':
        outbox.markDead(id);
        break;
      // Counted as a dead letter would be (the entry says outcome 'blocked'), then marked blocked.
      case 'blocked':
        outbox.markDead(id);
        outbox.markBlocked(id);
        break;
    }
    append(id, it.entry);
  };
  const settleOne = inTx(settleLogged);

  return {
    settleLogged,
    recordDelivery: (outboxId, entry) => settleOne({ kind: 'delivered', outboxId, entry }),
    recordFailedAttempt: (outboxId, entry, nextAttemptAt) =>
      settleOne({ kind: 'failed', outboxId, entry, nextAttemptAt }),
    recordDeadLetter: (outboxId, entry) => settleOne({ kind: 'dead', outboxId, entry }),
    listEgressLog(filter) {
      const { args, param } = sqliteParams();
      const { where, limit } = egressLogFilter(filter, param);
      const sql = `SELECT * FROM egress_log e ${where} ORDER BY e.seq LIMIT ${limit}`;
      return (db.prepare(sql).all(...args) as LogDbRow[]).map(toLogRow);
    },
  };
}

/**
 * Rows written before the tree existed (stores from before 0007-egress-merkle) become leaves, in
 * seq order, once. Only rows that never had a leaf (`leaf_index` NULL): a row whose leaf is gone
 * was deleted behind the store's back, and appending it again would collide with the stored nodes
 * and stop the gateway from starting. The self-check raises that instead (src/audit/self-check.ts).
 */
function backfillLeaves(db: Database.Database, tree: AuditTreeWriter): void {
  // O(1) check first: leaves are written with their rows, so only a legacy tail can be missing.
  const maxSeq = db.prepare(`SELECT MAX(seq) FROM egress_log`).pluck().get() as number | null;
  const maxRef = db
    .prepare(`SELECT ref FROM audit_leaves WHERE kind = 'egress' ORDER BY leaf_index DESC LIMIT 1`)
    .pluck()
    .get() as number | null;
  if (maxSeq === null || maxSeq === maxRef) return;
  const missing = db.prepare(
    `SELECT * FROM egress_log e WHERE e.leaf_index IS NULL
      AND NOT EXISTS (SELECT 1 FROM audit_leaves l WHERE l.kind = 'egress' AND l.ref = e.seq) ORDER BY seq`,
  );
  const rows = missing.all() as LogDbRow[];
  if (rows.length === 0) return;
  db.transaction(() => {
    for (const r of rows)
      tree.appendLeaf('egress', (index) => ({
        ref: r.seq,
        entry: egressLeaf({ ...toLogRow(r), payloadSha256: r.payload_sha256, payloadBytes: r.payload_bytes }, index),
      }));
  })();
}
