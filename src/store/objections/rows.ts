/**
 * What both stores share about objections: the table's row and its mapping, the leaves that
 * opening and resolving append, the refusal of a second resolution, and the list filter. The
 * DDL and the statements stay per dialect (sqlite.ts, pg.ts): they differ in types, in
 * placeholders and in how a transaction is held.
 */
import { objectionLeaf, type AuditEventBody } from '../../audit/events.js';
import { ShekaraError } from '../../errors.js';
import type { ObjectionRow, ObjectionStatus, ObjectionStore } from './types.js';
import { whereAll, type Param } from '../sql-filter.js';

export const OBJECTION_COLUMNS =
  'id, vin, oem, purpose, pseudonym, reason, received_at, due_at, status, answer, resolved_at, resolved_by';

/** The `objections` table's row, as both drivers return it (integers as JS numbers). */
export interface ObjectionDbRow {
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

export function toObjection(r: ObjectionDbRow): ObjectionRow {
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

type OpenInput = Parameters<ObjectionStore['openObjection']>[0];
type ResolveInput = Parameters<ObjectionStore['resolveObjection']>[0];

/** The 'objection' leaf of an opening; `blockedPending` rows of an automated purpose were stopped with it. */
export const openedLeaf = (row: ObjectionRow, o: OpenInput, blockedPending: number): AuditEventBody =>
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
  });

/** The 'objection' leaf of a resolution (the operator's answer, as a digest). */
export const resolvedLeaf = (row: ObjectionRow, r: ResolveInput): AuditEventBody =>
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
  });

/** Who resolved it, as stored: the API key, or the source (CLI) when there is none. */
export const resolvedBy = (r: ResolveInput): string => r.actor.apiKey ?? r.actor.source;

/** An objection is resolved once: the second attempt is refused, naming what it found. */
export const alreadyResolved = (id: string, before: ObjectionDbRow): ShekaraError =>
  new ShekaraError(
    'SHK_OBJECTION_RESOLVED',
    `objection ${id} was already ${before.status} at ${new Date(before.resolved_at!).toISOString()}`,
    { details: { id, status: before.status } },
  );

/**
 * The WHERE clause of `listObjections`, in either dialect: `param(v)` binds a value and returns
 * its placeholder (`?` for SQLite, `$n` for PostgreSQL). The limit is bound last.
 */
export function objectionFilter(
  f: Parameters<ObjectionStore['listObjections']>[0] = {},
  param: Param,
): { where: string; limit: string } {
  const where: string[] = [];
  if (f.vin !== undefined) where.push(`vin = ${param(f.vin)}`);
  if (f.status !== undefined) where.push(`status = ${param(f.status)}`);
  if (f.overdueAt !== undefined) where.push(`status = 'open' AND due_at < ${param(f.overdueAt)}`);
  return { where: whereAll(where), limit: param(f.limit ?? 1000) };
}
