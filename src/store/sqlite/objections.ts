/**
 * Objections to automated processing (owner rights). An objection is open from receipt until
 * the operator resolves it — upheld or rejected, with an answer — and is kept afterwards: the
 * regulator may ask whether answers came within the deadline. Opening and resolving each
 * append an 'objection' leaf in the same transaction.
 */
import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { AuditStore, ObjectionRow, ObjectionStatus, ObjectionStore } from '../types.js';
import type { Sync } from './sync.js';
import type { OutboxWriter } from './outbox.js';
import { objectionLeaf } from '../../audit/events.js';
import { uuidv7 } from '../../ids.js';
import { ShekaraError } from '../../errors.js';

export const OBJECTION_MIGRATIONS: Migration[] = [
  {
    id: '0031-objections',
    sql: `
  CREATE TABLE objections (
    id          TEXT PRIMARY KEY,
    vin         TEXT NOT NULL,
    oem         TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    pseudonym   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld', 'rejected')),
    answer      TEXT,
    resolved_at INTEGER,
    resolved_by TEXT
  ) STRICT;
  -- The hot-path check (ingest and send time) and the operator's list of open ones.
  CREATE INDEX objections_vehicle ON objections (vin, oem, purpose) WHERE status <> 'rejected';
  CREATE INDEX objections_status ON objections (status, due_at);`,
  },
];

export function sqliteObjections(
  db: Database.Database,
  deps: { outbox: Pick<OutboxWriter, 'blockUndelivered'>; audit: Pick<Sync<AuditStore>, 'appendAuditEvent'> },
): Sync<ObjectionStore> {
  const { audit } = deps;
  const insert = db.prepare(`INSERT INTO objections (id, vin, oem, purpose, pseudonym, reason, received_at, due_at)
    VALUES (@id, @vin, @oem, @purpose, @pseudonym, @reason, @receivedAt, @dueAt) RETURNING *`);
  const get = db.prepare(`SELECT * FROM objections WHERE id = ?`);
  const resolve =
    db.prepare(`UPDATE objections SET status = @status, answer = @answer, resolved_at = @resolvedAt, resolved_by = @resolvedBy
    WHERE id = @id AND status = 'open' RETURNING *`);
  // Upheld stays in effect: the owner's objection prevailed, so the automated processing does not resume.
  const objected = db
    .prepare(
      `SELECT 1 FROM objections WHERE vin = ? AND oem = ? AND purpose = ? AND status <> 'rejected'
    AND received_at <= ? LIMIT 1`,
    )
    .pluck();

  const open = db.transaction((o: Parameters<ObjectionStore['openObjection']>[0]) => {
    const row = toObjection(insert.get({ ...o, id: uuidv7(o.receivedAt) }) as ObjectionDbRow);
    // An automated purpose stops at once for this vehicle, as on a revocation: nothing of it waits in the queue.
    const blockedPending = o.automated ? deps.outbox.blockUndelivered(o.vin, { oem: o.oem, purpose: o.purpose }) : 0;
    const leafIndex = audit.appendAuditEvent(
      'objection',
      o.receivedAt,
      objectionLeaf({
        action: 'opened',
        objection: row.id,
        pseudonym: row.pseudonym,
        oem: row.oem,
        purpose: row.purpose,
        status: row.status,
        dueAt: row.dueAt,
        automated: o.automated,
        blockedPending,
        text: row.reason,
        actor: o.actor,
      }),
    );
    return { objection: row, leafIndex };
  });
  const settle = db.transaction((r: Parameters<ObjectionStore['resolveObjection']>[0]) => {
    const before = get.get(r.id) as ObjectionDbRow | undefined;
    if (!before) return undefined;
    const after = resolve.get({
      id: r.id,
      status: r.status,
      answer: r.answer,
      resolvedAt: r.resolvedAt,
      resolvedBy: r.actor.apiKey ?? r.actor.source,
    }) as ObjectionDbRow | undefined;
    if (!after) {
      throw new ShekaraError(
        'SHK_OBJECTION_RESOLVED',
        `objection ${r.id} was already ${before.status} at ${new Date(before.resolved_at!).toISOString()}`,
        { details: { id: r.id, status: before.status } },
      );
    }
    const row = toObjection(after);
    const leafIndex = audit.appendAuditEvent(
      'objection',
      r.resolvedAt,
      objectionLeaf({
        action: 'resolved',
        objection: row.id,
        pseudonym: row.pseudonym,
        oem: row.oem,
        purpose: row.purpose,
        status: row.status,
        dueAt: row.dueAt,
        automated: null,
        blockedPending: 0,
        text: r.answer,
        actor: r.actor,
      }),
    );
    return { objection: row, leafIndex };
  });

  return {
    openObjection(o) {
      return open(o);
    },
    resolveObjection(r) {
      return settle(r);
    },
    getObjection(id) {
      const row = get.get(id) as ObjectionDbRow | undefined;
      return row ? toObjection(row) : undefined;
    },
    listObjections(f = {}) {
      const where: string[] = [];
      const args: Record<string, unknown> = { limit: f.limit ?? 1000 };
      if (f.vin !== undefined) {
        where.push('vin = @vin');
        args.vin = f.vin;
      }
      if (f.status !== undefined) {
        where.push('status = @status');
        args.status = f.status;
      }
      if (f.overdueAt !== undefined) {
        where.push(`status = 'open' AND due_at < @overdueAt`);
        args.overdueAt = f.overdueAt;
      }
      const sql = `SELECT * FROM objections ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at, id LIMIT @limit`;
      return (db.prepare(sql).all(args) as ObjectionDbRow[]).map(toObjection);
    },
    isProcessingObjected: (vin, oem, purpose, atMs) => objected.get(vin, oem, purpose, atMs) !== undefined,
  };
}

interface ObjectionDbRow {
  id: string;
  vin: string;
  oem: string;
  purpose: string;
  pseudonym: string;
  reason: string;
  received_at: number;
  due_at: number;
  status: string;
  answer: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
}

function toObjection(r: ObjectionDbRow): ObjectionRow {
  return {
    id: r.id,
    vin: r.vin,
    oem: r.oem,
    purpose: r.purpose,
    pseudonym: r.pseudonym,
    reason: r.reason,
    receivedAt: r.received_at,
    dueAt: r.due_at,
    status: r.status as ObjectionStatus,
    answer: r.answer,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
  };
}
