/**
 * Objections on SQLite (the contract: ./types.ts). Opening and resolving each append an
 * 'objection' leaf in the same transaction; SQLite's one writer makes the check-then-update of a
 * resolution atomic.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { AuditStore } from '../types.js';
import type { Sync } from '../sqlite/sync.js';
import type { OutboxWriter } from '../outbox/sqlite.js';
import { uuidv7 } from '../../ids.js';
import type { ObjectionStore } from './types.js';
import {
  OBJECTION_COLUMNS,
  alreadyResolved,
  objectionFilter,
  openedLeaf,
  resolvedBy,
  resolvedLeaf,
  toObjection,
  type ObjectionDbRow,
} from './rows.js';
import { sqliteParams } from '../sql-filter.js';

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
    VALUES (@id, @vin, @oem, @purpose, @pseudonym, @reason, @receivedAt, @dueAt) RETURNING ${OBJECTION_COLUMNS}`);
  const get = db.prepare(`SELECT ${OBJECTION_COLUMNS} FROM objections WHERE id = ?`);
  const resolve =
    db.prepare(`UPDATE objections SET status = @status, answer = @answer, resolved_at = @resolvedAt, resolved_by = @resolvedBy
    WHERE id = @id AND status = 'open' RETURNING ${OBJECTION_COLUMNS}`);
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
    const leafIndex = audit.appendAuditEvent('objection', o.receivedAt, openedLeaf(row, o, blockedPending));
    return { objection: row, leafIndex };
  });
  const answer = db.transaction((r: Parameters<ObjectionStore['resolveObjection']>[0]) => {
    const before = get.get(r.id) as ObjectionDbRow | undefined;
    if (!before) return undefined;
    const after = resolve.get({
      id: r.id,
      status: r.status,
      answer: r.answer,
      resolvedAt: r.resolvedAt,
      resolvedBy: resolvedBy(r),
    }) as ObjectionDbRow | undefined;
    if (!after) throw alreadyResolved(r.id, before);
    const row = toObjection(after);
    const leafIndex = audit.appendAuditEvent('objection', r.resolvedAt, resolvedLeaf(row, r));
    return { objection: row, leafIndex };
  });

  return {
    openObjection: (o) => open(o),
    resolveObjection: (r) => answer(r),
    getObjection(id) {
      const row = get.get(id) as ObjectionDbRow | undefined;
      return row ? toObjection(row) : undefined;
    },
    listObjections(f) {
      const { args, param } = sqliteParams();
      const { where, limit } = objectionFilter(f, param);
      const sql = `SELECT ${OBJECTION_COLUMNS} FROM objections ${where} ORDER BY received_at, id LIMIT ${limit}`;
      return (db.prepare(sql).all(...args) as ObjectionDbRow[]).map(toObjection);
    },
    isProcessingObjected: (vin, oem, purpose, atMs) => objected.get(vin, oem, purpose, atMs) !== undefined,
  };
}
