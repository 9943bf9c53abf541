/**
 * Objections to automated processing (owner rights) in PostgreSQL, as store/sqlite/objections.ts.
 * An objection is open from receipt until the operator resolves it — upheld or rejected, with an
 * answer — and is kept afterwards. Opening and resolving each append an 'objection' leaf in the
 * same transaction.
 */
import type { PgMigration } from './migrate.js';
import type { Db } from './db.js';
import type { PgTreeWriter } from './audit.js';
import { blockUndelivered } from './outbox.js';
import { objectionLeaf } from '../../audit/events.js';
import { uuidv7 } from '../../ids.js';
import { ShekaraError } from '../../errors.js';
import type { ObjectionRow, ObjectionStatus, ObjectionStore } from '../types.js';

export const OBJECTION_MIGRATIONS: PgMigration[] = [
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
    received_at BIGINT NOT NULL,
    due_at      BIGINT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld', 'rejected')),
    answer      TEXT,
    resolved_at BIGINT,
    resolved_by TEXT
  );
  -- The hot-path check (ingest and send time) and the operator's list of open ones.
  CREATE INDEX objections_vehicle ON objections (vin, oem, purpose) WHERE status <> 'rejected';
  CREATE INDEX objections_status ON objections (status, due_at);`,
  },
];

const COLUMNS =
  'id, vin, oem, purpose, pseudonym, reason, received_at, due_at, status, answer, resolved_at, resolved_by';

export function pgObjections(db: Db, audit: Pick<PgTreeWriter, 'appendEventIn'>): ObjectionStore {
  const get = async (id: string) =>
    (await db.query<ObjectionDbRow>(`SELECT ${COLUMNS} FROM objections WHERE id = $1`, [id]))[0];
  return {
    openObjection: (o) =>
      db.tx(async (t) => {
        const [inserted] = await t.query<ObjectionDbRow>(
          `INSERT INTO objections (id, vin, oem, purpose, pseudonym, reason, received_at, due_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
          [uuidv7(o.receivedAt), o.vin, o.oem, o.purpose, o.pseudonym, o.reason, o.receivedAt, o.dueAt],
        );
        const row = toObjection(inserted!);
        // An automated purpose stops at once for this vehicle, as on a revocation: nothing of it waits in the queue.
        const blockedPending = o.automated ? await blockUndelivered(t, o.vin, { oem: o.oem, purpose: o.purpose }) : 0;
        const leafIndex = await audit.appendEventIn(
          t,
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
      }),
    resolveObjection: (r) =>
      db.tx(async (t) => {
        // The UPDATE decides, not a read before it: of two instances resolving at once, the second
        // waits for the first's row lock, then finds the objection no longer open.
        const [after] = await t.query<ObjectionDbRow>(
          `UPDATE objections SET status = $2, answer = $3, resolved_at = $4, resolved_by = $5
        WHERE id = $1 AND status = 'open' RETURNING ${COLUMNS}`,
          [r.id, r.status, r.answer, r.resolvedAt, r.actor.apiKey ?? r.actor.source],
        );
        if (!after) {
          const [before] = await t.query<ObjectionDbRow>(`SELECT ${COLUMNS} FROM objections WHERE id = $1`, [r.id]);
          if (!before) return undefined;
          throw new ShekaraError(
            'SHK_OBJECTION_RESOLVED',
            `objection ${r.id} was already ${before.status} at ${new Date(before.resolved_at!).toISOString()}`,
            { details: { id: r.id, status: before.status } },
          );
        }
        const row = toObjection(after);
        const leafIndex = await audit.appendEventIn(
          t,
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
      }),
    getObjection: async (id) => {
      const row = await get(id);
      return row ? toObjection(row) : undefined;
    },
    async listObjections(f = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (sql: (p: string) => string, v: unknown) => {
        args.push(v);
        where.push(sql(`$${args.length}`));
      };
      if (f.vin !== undefined) add((p) => `vin = ${p}`, f.vin);
      if (f.status !== undefined) add((p) => `status = ${p}`, f.status);
      if (f.overdueAt !== undefined) add((p) => `status = 'open' AND due_at < ${p}`, f.overdueAt);
      args.push(f.limit ?? 1000);
      // Byte order, as SQLite sorts text (ids are UUIDv7: time order).
      return (
        await db.query<ObjectionDbRow>(
          `SELECT ${COLUMNS} FROM objections ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY received_at, id COLLATE "C" LIMIT $${args.length}`,
          args,
        )
      ).map(toObjection);
    },
    // Upheld stays in effect: the owner's objection prevailed, so the automated processing does not resume.
    isProcessingObjected: async (vin, oem, purpose, atMs) =>
      (
        await db.query(
          `SELECT 1 FROM objections
        WHERE vin = $1 AND oem = $2 AND purpose = $3 AND status <> 'rejected' AND received_at <= $4 LIMIT 1`,
          [vin, oem, purpose, atMs],
        )
      ).length > 0,
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
