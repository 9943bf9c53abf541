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
export function projectionBody(p: Projection): string {
  return JSON.stringify({
    deliveryId: p.deliveryId,
    purpose: p.purpose,
    policyHash: p.policyHash,
    ...(VIN_PATH in p.signals ? { vehicle: p.vehicle } : {}),
    observedAt: new Date(p.observedAt).toISOString(),
    signals: p.signals,
  });
}

/** The columns of an outbox row as read (`toOutbox`'s input). */
export const OUTBOX_COLUMNS =
  'id, record_id, delivery_id, oem, purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, attempts, trace_parent';

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
 * purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, decision, trace_parent,
 * next_attempt_at.
 */
export const outboxValues = (p: Projection, traceParent: string | null, dueAt: number): unknown[] => [
  p.recordId,
  p.deliveryId,
  p.oem,
  p.purpose,
  p.policyHash,
  p.vehicle,
  JSON.stringify(p.fieldsSent),
  JSON.stringify(p.fieldsDropped),
  projectionBody(p),
  p.decision ? JSON.stringify(p.decision) : null,
  traceParent,
  dueAt,
];
