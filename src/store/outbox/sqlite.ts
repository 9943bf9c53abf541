/**
 * The egress outbox in SQLite (the contract: ./types.ts): approved projections waiting to cross,
 * leased head of queue per vehicle, settled with their egress-log rows in one transaction.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Projection } from '../../record.js';
import type { EgressQueueStore, OutboxDecisionStore, OutboxRow, OutboxStatus, OutboxStore } from './types.js';
import type { Sync } from '../sqlite/sync.js';
import type { EgressLogSettler } from '../egress-log/sqlite.js';
import { OUTBOX_COLUMNS, outboxValues, toOutbox, type OutboxDbRow } from './rows.js';
import { isShaped, shapeCache, type ProjectionShape, type ShapedProjection } from './shapes.js';
import { readSnapshot } from '../sqlite/read-snapshot.js';
import { RECORD_IDS_OF_VIN } from '../records/sqlite.js';
import { dueChains, type PendingKey } from './heads.js';

export const OUTBOX_MIGRATIONS: Migration[] = [
  {
    id: '0003-egress-outbox',
    sql: `
  -- Approved projections waiting to cross. status: pending | delivered | dead
  CREATE TABLE egress_outbox (
    id              INTEGER PRIMARY KEY,
    record_id       TEXT NOT NULL REFERENCES records (id),
    oem             TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    policy_hash     TEXT NOT NULL,
    pseudonym       TEXT NOT NULL,
    fields_sent     TEXT NOT NULL,
    fields_dropped  TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (record_id, oem, purpose)
  ) STRICT;
  CREATE INDEX egress_outbox_due ON egress_outbox (next_attempt_at) WHERE status = 'pending';`,
  },
  {
    // status gains 'published' (handed to Kafka) and 'blocked' (a send-time check stopped it).
    id: '0003-egress-outbox-queue',
    sql: `
  -- Per-vehicle order: a row is leased only when no earlier row of its vehicle is pending.
  CREATE INDEX egress_outbox_vehicle ON egress_outbox (oem, pseudonym, id) WHERE status = 'pending';
  -- The Kafka relay reads pending rows in id order.
  CREATE INDEX egress_outbox_unpublished ON egress_outbox (id) WHERE status = 'pending';`,
  },
  {
    // Why each field of the projection left or did not (the policy's decision record), kept in
    // the country for the operator and the regulator; never part of the body sent to the OEM.
    id: '0009-egress-outbox-decision',
    sql: `ALTER TABLE egress_outbox ADD COLUMN decision TEXT;`,
  },
  {
    // The W3C traceparent of the commit that wrote the row (tracing on; docs/observability.md),
    // so the local queue's delivery continues the record's trace; the Kafka relay puts it in the
    // message headers instead. Telemetry metadata only: NULL when the record was not traced.
    id: '0040-egress-outbox-trace-parent',
    sql: `ALTER TABLE egress_outbox ADD COLUMN trace_parent TEXT;`,
  },
  {
    // The id the OEM receives instead of the record id (src/policy/delivery-id.ts), made once
    // with the projection; delivery carries it as stored. NULL on rows written before: those
    // still cross under their record id.
    id: '0060-outbox-delivery-id',
    sql: `ALTER TABLE egress_outbox ADD COLUMN delivery_id TEXT;`,
  },
  {
    // The backlog per OEM (depth, oldest row) without reading settled rows.
    id: '0070-egress-outbox-undelivered',
    sql: `CREATE INDEX egress_outbox_undelivered ON egress_outbox (oem, id) WHERE status IN ('pending', 'published');`,
  },
  {
    // A projection's decision and field lists stored once per distinct shape, not per row
    // (./shapes.ts says why). New rows name their shape and keep '' in fields_sent and
    // fields_dropped (NOT NULL: SQLite would rebuild the whole table to relax it) and NULL in
    // decision; rows written before keep theirs and no shape, and read as before (rows.ts).
    // The foreign key is what lets the writer skip a shape it believes stored: if that belief
    // is wrong (its transaction rolled back), the row's insert fails and is retried (insert below).
    // Shapes are never deleted: they hold field paths and reasons, no vehicle data, and are few.
    id: '0140-outbox-shapes',
    sql: `
  CREATE TABLE egress_outbox_shapes (
    digest          BLOB PRIMARY KEY,
    fields_sent     TEXT NOT NULL,
    fields_dropped  TEXT NOT NULL,
    decision        TEXT
  ) STRICT, WITHOUT ROWID;
  ALTER TABLE egress_outbox ADD COLUMN shape BLOB REFERENCES egress_outbox_shapes (digest);`,
  },
  {
    // Each vehicle's head of queue is found by reading pending rows in id order (./heads.ts), not
    // on an index keyed by vehicle: that index cost the writer one random page per car per commit
    // (~6.4 KB of the ~17 KB of WAL per record on a store of 150,000 pending rows), and only the
    // local queue read it. egress_outbox_due (next_attempt_at) goes too: only the statements that
    // found heads by it read it.
    id: '0160-outbox-heads-in-id-order',
    sql: `DROP INDEX IF EXISTS egress_outbox_vehicle;
  DROP INDEX IF EXISTS egress_outbox_due;`,
  },
];

export interface OutboxWriter {
  /**
   * Adds one approved projection, due at `dueAt`, with its record's traceparent. Inside the
   * caller's transaction. A projection that names its shape by digest without the texts
   * (ShapedProjection, from a sender that saw it committed) MUST name a stored shape.
   */
  insert(p: Projection | ShapedProjection, dueAt: number, traceParent: string | null): void;
  /** Status changes, inside the caller's transaction (with the egress-log row). */
  markDelivered(id: number): void;
  markFailed(id: number, nextAttemptAt: number): void;
  markDead(id: number): void;
  /** What a 'blocked' settlement leaves, whatever the row's status was. */
  markBlocked(id: number): void;
  /**
   * A push row (not of the pull feed) already delivered or dead: a further outcome for it is
   * dropped, not logged (../egress-log/sqlite.ts `settleLogged`). Inside the caller's transaction.
   */
  isSettled(id: number): boolean;
  /**
   * Marks a vehicle's rows not yet delivered (pending, or published to Kafka and not yet
   * settled) as blocked: for one OEM purpose on a revocation, all of them on an erasure.
   * Inside the caller's transaction; returns how many.
   */
  blockUndelivered(vin: string, only?: { oem: string; purpose: string }): number;
}

export function sqliteOutbox(db: Database.Database): Sync<OutboxStore & OutboxDecisionStore> & OutboxWriter {
  // A projection released late (trip hold-back) names an earlier record; if that record's own
  // commit failed it was never acknowledged and has nothing to carry, so the row is skipped
  // rather than failing the record being committed now. A shape's digest is bound as its hex
  // (what a projection carries) and stored as its 32 bytes, as before.
  const insert =
    db.prepare(`INSERT INTO egress_outbox (record_id, delivery_id, oem, purpose, policy_hash, pseudonym, body, trace_parent, next_attempt_at, shape, fields_sent, fields_dropped)
    SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, unhex(?), '', '' WHERE EXISTS (SELECT 1 FROM records WHERE id = ?)`);
  const insertShape = db.prepare(
    `INSERT OR IGNORE INTO egress_outbox_shapes (digest, fields_sent, fields_dropped, decision) VALUES (unhex(?), ?, ?, ?)`,
  );
  const shapeOf = shapeCache();
  const writeShape = (s: ProjectionShape) => void insertShape.run(s.digest, s.fieldsSent, s.fieldsDropped, s.decision);
  /**
   * Shapes this connection wrote (a map lookup, no statement, for a shape seen before). Emptied
   * when a row the set trusted turned out not to be stored (its transaction rolled back).
   */
  let written = new Set<string>();
  // Only the head of each vehicle's queue is due: a row waiting on a retry (or leased) holds back
  // the rows behind it, so the OEM sees each vehicle's records in order even across an outage.
  // Heads are found by reading pending rows in id order (./heads.ts says why not by an index
  // keyed by vehicle), on the index the Kafka relay reads too.
  const pendingWindow = db
    .prepare(
      `SELECT id, oem || char(10) || pseudonym, next_attempt_at, lease_until FROM egress_outbox INDEXED BY egress_outbox_unpublished
      WHERE status = 'pending' AND id > ? ORDER BY id LIMIT ?`,
    )
    .raw();
  const window = (after: number, n: number) => pendingWindow.all(after, n) as PendingKey[];
  const rowsById = db.prepare(
    `SELECT ${OUTBOX_COLUMNS} FROM egress_outbox WHERE id IN (SELECT value FROM json_each(?))`,
  );
  const leaseIds = db.prepare(`UPDATE egress_outbox SET lease_until = ? WHERE id IN (SELECT value FROM json_each(?))`);
  /** The chains' rows, vehicle by vehicle as chosen; leased until `leaseUntil` when given. */
  const chainRows = (now: number, limit: number, perVehicle: number, leaseUntil?: number): OutboxRow[] => {
    const ids = dueChains(window, now, limit, perVehicle).flatMap((c) => c.ids);
    if (ids.length === 0) return [];
    const list = JSON.stringify(ids);
    if (leaseUntil !== undefined) leaseIds.run(leaseUntil, list);
    const byId = new Map((rowsById.all(list) as OutboxDbRow[]).map((r) => [r.id, r]));
    return ids.map((id) => toOutbox(byId.get(id)!));
  };
  // An outcome never reopens a blocked row: a delivery already on the wire when a revocation,
  // an objection or an erasure blocked it is logged as what it was, but the row stays blocked.
  const delivered = db.prepare(
    `UPDATE egress_outbox SET status = 'delivered', attempts = attempts + 1, lease_until = 0 WHERE id = ? AND status <> 'blocked'`,
  );
  const failed = db.prepare(
    `UPDATE egress_outbox SET attempts = attempts + 1, next_attempt_at = ?, lease_until = 0 WHERE id = ? AND status <> 'blocked'`,
  );
  const dead = db.prepare(
    `UPDATE egress_outbox SET status = 'dead', attempts = attempts + 1, lease_until = 0 WHERE id = ? AND status <> 'blocked'`,
  );
  const blocked = db.prepare(`UPDATE egress_outbox SET status = 'blocked' WHERE id = ?`);
  const settled = db
    .prepare(`SELECT 1 FROM egress_outbox WHERE id = ? AND feed_seq IS NULL AND status IN ('delivered', 'dead')`)
    .pluck();
  // The vehicle's rows through its records, indexed or not yet (record_id leads the UNIQUE index).
  const blockOne = db.prepare(`UPDATE egress_outbox SET status = 'blocked', lease_until = 0
    WHERE status IN ('pending', 'published') AND oem = ? AND purpose = ? AND record_id IN (${RECORD_IDS_OF_VIN})`);
  const blockAll = db.prepare(`UPDATE egress_outbox SET status = 'blocked', lease_until = 0
    WHERE status IN ('pending', 'published') AND record_id IN (${RECORD_IDS_OF_VIN})`);
  const nextDue = db
    .prepare(`SELECT MIN(MAX(next_attempt_at, lease_until)) FROM egress_outbox WHERE status = 'pending'`)
    .pluck();
  const decisionOf = db
    .prepare(
      `SELECT COALESCE(s.decision, o.decision) FROM egress_outbox o LEFT JOIN egress_outbox_shapes s ON s.digest = o.shape
      WHERE o.record_id = ? AND o.oem = ? AND o.purpose = ?`,
    )
    .pluck();
  // One snapshot for the heads and their chains, read without the write lock (the writer thread
  // goes on committing); leasing writes, so it is one write transaction.
  const readChains = readSnapshot(db, (now: number, limit: number, perVehicle: number) =>
    chainRows(now, limit, perVehicle),
  );
  const leaseChains = db.transaction((now: number, limit: number, leaseMs: number, perVehicle: number) =>
    chainRows(now, limit, perVehicle, now + leaseMs),
  );

  return {
    insert(p, dueAt, traceParent) {
      // By digest (from the writer thread's sender), with the texts unless known stored; or a
      // projection with its parts, whose shape is the one it carries or is made here.
      const shaped = isShaped(p);
      const texts = shaped ? p.shapeTexts : shapeOf(p);
      const digest = shaped ? p.shape : texts!.digest;
      if (texts && !written.has(digest)) {
        writeShape(texts);
        if (written.size >= 4096) written = new Set();
        written.add(digest);
      }
      const values = outboxValues(p, traceParent, dueAt, digest);
      try {
        insert.run(...values, p.recordId);
      } catch (err) {
        // The set trusted a shape whose row is not stored: the transaction (or savepoint) that
        // wrote it rolled back. Only this statement failed; trust nothing, write it, retry once.
        // Without the texts, the sender said the shape was committed: the key is what stops a
        // row naming a shape that is not there, and the commit fails.
        if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_FOREIGNKEY' || !texts) throw err;
        written = new Set();
        writeShape(texts);
        written.add(digest);
        insert.run(...values, p.recordId);
      }
    },
    markDelivered: (id) => void delivered.run(id),
    markFailed: (id, next) => void failed.run(next, id),
    markDead: (id) => void dead.run(id),
    markBlocked: (id) => void blocked.run(id),
    isSettled: (id) => settled.get(id) !== undefined,
    blockUndelivered: (vin, only) => (only ? blockOne.run(only.oem, only.purpose, vin) : blockAll.run(vin)).changes,
    leaseDueOutbox: (now, limit, leaseMs, perVehicle = 1) => leaseChains.immediate(now, limit, leaseMs, perVehicle),
    dueOutboxHeads: (now, limit, perVehicle = 1) => readChains(now, limit, perVehicle),
    nextDueAt: () => (nextDue.get() as number | null) ?? undefined,
    projectionDecision(recordId, oem, purpose) {
      const d = decisionOf.get(recordId, oem, purpose) as string | null | undefined;
      return typeof d === 'string' ? JSON.parse(d) : d;
    },
  };
}

/**
 * The egress queues' side of the outbox: the Kafka relay's reads and marks, and the one
 * transaction that settles a batch of delivery outcomes with their egress-log rows (one fsync
 * for many outcomes, as ingest's group commit does for records).
 */
/**
 * The Kafka relay's lease in two halves, so the write carries no row contents: `leaseIds` (the
 * write: on a file store, in the writer thread's turn) sets the lease and answers with the ids
 * only; `rowsOf` (a read, on the relay's own connection, after the lease committed) reads the
 * rows to publish. The writer thread is the one writer of ingest too: every byte it reads and
 * hands over for the relay is time its turns are not committing records. `rowsOf` returns only
 * rows still pending (a row blocked since its lease is not published), in id order.
 */
export function sqliteRelayLease(db: Database.Database): {
  leaseIds(now: number, limit: number, leaseMs: number): number[];
  rowsOf(ids: readonly number[]): OutboxRow[];
} {
  const lease = db
    .prepare(
      `UPDATE egress_outbox SET lease_until = @leaseUntil WHERE id IN (
      SELECT id FROM egress_outbox WHERE status = 'pending' AND lease_until <= @now ORDER BY id LIMIT @limit)
    RETURNING id`,
    )
    .pluck();
  const rows = db.prepare(`SELECT ${OUTBOX_COLUMNS} FROM egress_outbox
    WHERE id IN (SELECT value FROM json_each(?)) AND status = 'pending' ORDER BY id`);
  return {
    leaseIds: (now, limit, leaseMs) => lease.all({ now, limit, leaseUntil: now + leaseMs }) as number[],
    rowsOf: (ids) => (ids.length === 0 ? [] : (rows.all(JSON.stringify(ids)) as OutboxDbRow[]).map(toOutbox)),
  };
}

export function sqliteEgressQueue(
  db: Database.Database,
  log: EgressLogSettler,
  park: (outboxId: number) => void,
): Sync<EgressQueueStore> {
  const relay = sqliteRelayLease(db);
  // A batch's mark is ONE statement (the ids as a JSON array), not one per row: it runs in the
  // writer thread's turn, between ingest's commits.
  const published = db.prepare(
    `UPDATE egress_outbox SET status = 'published', lease_until = 0
      WHERE id IN (SELECT value FROM json_each(?)) AND status = 'pending'`,
  );
  const defer = db.prepare(`UPDATE egress_outbox SET next_attempt_at = ?, lease_until = 0 WHERE id = ?`);
  const state = db.prepare(`SELECT status, attempts FROM egress_outbox WHERE id = ?`);
  const states = db.prepare(
    `SELECT id, status, attempts FROM egress_outbox WHERE id IN (SELECT value FROM json_each(?))`,
  );
  const backlog = db.prepare(`SELECT COUNT(*) FROM egress_outbox WHERE status = 'pending'`).pluck();
  const byOem = db.prepare(`SELECT g.oem, g.depth, o.record_id AS oldest FROM (
      SELECT oem, COUNT(*) AS depth, MIN(id) AS first FROM egress_outbox WHERE status IN ('pending', 'published') GROUP BY oem
    ) g JOIN egress_outbox o ON o.id = g.first ORDER BY g.oem`);

  // Nested transactions are savepoints in better-sqlite3: the egress-log writes below join this one.
  const settle = db.transaction((items: Parameters<EgressQueueStore['settleOutbox']>[0]) => {
    for (const it of items) {
      switch (it.kind) {
        case 'deferred':
          defer.run(it.until, it.outboxId);
          break;
        case 'parked':
          park(it.outboxId);
          break;
        case 'delivered':
        case 'failed':
        case 'dead':
        case 'blocked':
          log.settleLogged(it);
      }
    }
  });
  return {
    // One connection (an in-memory store): both halves here, in one transaction.
    leaseUnpublished: db.transaction((now: number, limit: number, leaseMs: number) =>
      relay.rowsOf(relay.leaseIds(now, limit, leaseMs)),
    ),
    markPublished: (ids) => {
      if (ids.length > 0) published.run(JSON.stringify(ids));
    },
    outboxState: (id) => state.get(id) as { status: OutboxStatus; attempts: number } | undefined,
    outboxStates: (ids) =>
      new Map(
        (states.all(JSON.stringify(ids)) as { id: number; status: OutboxStatus; attempts: number }[]).map(
          ({ id, status, attempts }) => [id, { status, attempts }],
        ),
      ),
    outboxBacklog: () => backlog.get() as number,
    outboxBacklogByOem: () =>
      (byOem.all() as { oem: string; depth: number; oldest: string }[]).map((r) => ({
        oem: r.oem,
        depth: r.depth,
        oldestRecordId: r.oldest,
      })),
    settleOutbox: (items) => {
      if (items.length > 0) settle(items);
    },
  };
}
