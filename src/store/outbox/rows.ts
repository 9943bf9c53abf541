/**
 * What both stores share about the outbox: the body an OEM receives, the columns of a row as
 * read, its row and mapping, and the values of a new row. The DDL and the statements stay per
 * dialect (sqlite.ts, pg.ts): the lease, the settle and the blocking are where SQLite's one
 * writer and PostgreSQL's row locks differ, and are the hot path.
 */
import type { Projection } from '../../record.js';
import { VIN_PATH } from '../../policy/selectors.js';
import type { OutboxRow } from './types.js';
import { jsonColumn } from '../json-column.js';

/**
 * The JSON an OEM receives: only what the policy approved, under the projection's delivery id
 * (never the record id: it is a UUIDv7 carrying the receipt time, and shared by every purpose).
 * `vehicle` (the pseudonym) is in the body only when the purpose names the VIN: otherwise
 * nothing in a delivery identifies the vehicle.
 */
export function projectionBody(
  p: Pick<Projection, 'deliveryId' | 'purpose' | 'policyHash' | 'signals' | 'vehicle' | 'observedAt'>,
): string {
  return JSON.stringify({
    deliveryId: p.deliveryId,
    purpose: p.purpose,
    policyHash: p.policyHash,
    ...(VIN_PATH in p.signals ? { vehicle: p.vehicle } : {}),
    observedAt: new Date(p.observedAt).toISOString(),
    signals: p.signals,
  });
}

/** An outbox row's own columns, as stored (`shape` names its egress_outbox_shapes row, NULL before 0140). */
export const OUTBOX_STORED_COLUMNS =
  'id, record_id, delivery_id, oem, purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, attempts, trace_parent, shape';

/**
 * The columns of an outbox row as read (`toOutbox`'s input), of the table or subquery `alias`
 * (none: unqualified). A row written since 0140 keeps its field lists in its shape (./shapes.ts)
 * and '' (SQLite) or NULL (PostgreSQL) in its own columns; a row written before keeps them in
 * its own columns and no shape. Either way the lists come back as the text that was written.
 * Subqueries, not a join, so the same list works in SELECT and in UPDATE ... RETURNING.
 */
export function outboxColumns(alias?: string): string {
  const a = alias ? `${alias}.` : '';
  const fromShape = (col: string) =>
    `COALESCE((SELECT s.${col} FROM egress_outbox_shapes s WHERE s.digest = ${a}shape), ${a}${col}) AS ${col}`;
  return `${a}id, ${a}record_id, ${a}delivery_id, ${a}oem, ${a}purpose, ${a}policy_hash, ${a}pseudonym, ${fromShape('fields_sent')}, ${fromShape('fields_dropped')}, ${a}body, ${a}attempts, ${a}trace_parent`;
}

/** outboxColumns() of an unqualified egress_outbox. */
export const OUTBOX_COLUMNS = outboxColumns();

/**
 * An outbox row as both drivers return it: `fields_sent` and `fields_dropped` arrive as their JSON
 * text from SQLite, already parsed from PostgreSQL's JSONB.
 */
export interface OutboxDbRow {
  id: number;
  record_id: string;
  delivery_id: string | null;
  oem: string;
  purpose: string;
  policy_hash: string;
  pseudonym: string;
  fields_sent: string | string[];
  fields_dropped: string | string[];
  body: string;
  attempts: number;
  trace_parent: string | null;
}

export function toOutbox(r: OutboxDbRow): OutboxRow {
  return {
    id: r.id,
    recordId: r.record_id,
    deliveryId: r.delivery_id ?? r.record_id,
    oem: r.oem,
    purpose: r.purpose,
    policyHash: r.policy_hash,
    pseudonym: r.pseudonym,
    fieldsSent: jsonColumn(r.fields_sent),
    fieldsDropped: jsonColumn(r.fields_dropped),
    body: r.body,
    attempts: r.attempts,
    traceParent: r.trace_parent,
  };
}

/**
 * A new row's values, in the order both inserts name their columns: record_id, delivery_id, oem,
 * purpose, policy_hash, pseudonym, body, trace_parent, next_attempt_at, shape (its digest in hex;
 * both inserts store the bytes). The field lists and the decision are in the shape (./shapes.ts),
 * written apart and once.
 */
export const outboxValues = (
  p: Omit<Projection, 'fieldsSent' | 'fieldsDropped' | 'decision' | 'shape'>,
  traceParent: string | null,
  dueAt: number,
  shape: string,
): unknown[] => [
  p.recordId,
  p.deliveryId,
  p.oem,
  p.purpose,
  p.policyHash,
  p.vehicle,
  projectionBody(p),
  traceParent,
  dueAt,
  shape,
];
