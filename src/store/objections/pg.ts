/**
 * Objections on PostgreSQL (the contract: ./types.ts), shared by every instance. Opening and
 * resolving each append an 'objection' leaf in the same transaction.
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import type { PgTreeWriter } from '../audit/pg.js';
import { blockUndelivered } from '../outbox/pg.js';
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
import { pgParams } from '../sql-filter.js';

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

export function pgObjections(db: Db, audit: Pick<PgTreeWriter, 'appendEventIn'>): ObjectionStore {
  const get = async (id: string) =>
    (await db.query<ObjectionDbRow>(`SELECT ${OBJECTION_COLUMNS} FROM objections WHERE id = $1`, [id]))[0];
  return {
    openObjection: (o) =>
      db.tx(async (t) => {
        const [inserted] = await t.query<ObjectionDbRow>(
          `INSERT INTO objections (id, vin, oem, purpose, pseudonym, reason, received_at, due_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${OBJECTION_COLUMNS}`,
          [uuidv7(o.receivedAt), o.vin, o.oem, o.purpose, o.pseudonym, o.reason, o.receivedAt, o.dueAt],
        );
        const row = toObjection(inserted!);
        // An automated purpose stops at once for this vehicle, as on a revocation: nothing of it waits in the queue.
        const blockedPending = o.automated ? await blockUndelivered(t, o.vin, { oem: o.oem, purpose: o.purpose }) : 0;
        const leafIndex = await audit.appendEventIn(t, 'objection', o.receivedAt, openedLeaf(row, o, blockedPending));
        return { objection: row, leafIndex };
      }),
    resolveObjection: (r) =>
      db.tx(async (t) => {
        // The UPDATE decides, not a read before it: of two instances resolving at once, the second
        // waits for the first's row lock, then finds the objection no longer open.
        const [after] = await t.query<ObjectionDbRow>(
          `UPDATE objections SET status = $2, answer = $3, resolved_at = $4, resolved_by = $5
        WHERE id = $1 AND status = 'open' RETURNING ${OBJECTION_COLUMNS}`,
          [r.id, r.status, r.answer, r.resolvedAt, resolvedBy(r)],
        );
        if (!after) {
          const [before] = await t.query<ObjectionDbRow>(`SELECT ${OBJECTION_COLUMNS} FROM objections WHERE id = $1`, [
            r.id,
          ]);
          if (!before) return undefined;
          throw alreadyResolved(r.id, before);
        }
        const row = toObjection(after);
        const leafIndex = await audit.appendEventIn(t, 'objection', r.resolvedAt, resolvedLeaf(row, r));
        return { objection: row, leafIndex };
      }),
    getObjection: async (id) => {
      const row = await get(id);
      return row ? toObjection(row) : undefined;
    },
    async listObjections(f) {
      const { args, param } = pgParams();
      const { where, limit } = objectionFilter(f, param);
      // Byte order, as SQLite sorts text (ids are UUIDv7: time order).
      const sql = `SELECT ${OBJECTION_COLUMNS} FROM objections ${where} ORDER BY received_at, id COLLATE "C" LIMIT ${limit}`;
      return (await db.query<ObjectionDbRow>(sql, args)).map(toObjection);
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
