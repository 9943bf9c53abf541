/**
 * What both stores share about the egress log: a row as read and its mapping, the digest of
 * the body an entry covers, and the filter of `listEgressLog`. The DDL and the statements stay per dialect (sqlite.ts, pg.ts): SQLite
 * appends each entry with its leaf in the settle transaction, PostgreSQL stages it there and
 * integrates it in batches; both are the hot path.
 */
import type { EgressLogEntry, EgressLogRow, EgressLogStore, PayloadDigest } from './types.js';
import { payloadDigest } from '../../audit/leaf.js';
import { jsonColumn } from '../json-column.js';
import { whereAll, type Param } from '../sql-filter.js';

/**
 * An egress-log row as both drivers return it: `fields_sent` and `fields_dropped` arrive as their
 * JSON text from SQLite, already parsed from PostgreSQL's JSONB.
 */
export interface LogDbRow {
  seq: number;
  at: number;
  oem: string;
  destination: string;
  destination_ip: string | null;
  destination_country: string | null;
  record_id: string;
  delivery_id: string | null;
  pseudonym: string;
  purpose: string;
  policy_hash: string;
  fields_sent: string | string[];
  fields_dropped: string | string[];
  outcome: string;
  attempt: number;
  http_status: number | null;
  error: string | null;
  payload_sha256: string | null;
  payload_bytes: number | null;
  trace_id: string | null;
}

export function toLogRow(r: LogDbRow): EgressLogRow {
  return {
    seq: r.seq,
    at: r.at,
    oem: r.oem,
    destination: r.destination,
    destinationIp: r.destination_ip,
    destinationCountry: r.destination_country,
    recordId: r.record_id,
    deliveryId: r.delivery_id ?? null,
    pseudonym: r.pseudonym,
    purpose: r.purpose,
    policyHash: r.policy_hash,
    fieldsSent: jsonColumn(r.fields_sent),
    fieldsDropped: jsonColumn(r.fields_dropped),
    outcome: r.outcome as EgressLogRow['outcome'],
    attempt: r.attempt,
    httpStatus: r.http_status,
    error: r.error,
    traceId: r.trace_id ?? null,
  };
}

/**
 * An entry's payload digest: the one its sender made from the body that crossed, else the digest of
 * the outbox row's body as stored (`storedBody`, read only then); null when the row is gone.
 */
export const entryPayload = (e: EgressLogEntry, storedBody: () => string | undefined): PayloadDigest => {
  if (e.payload) return e.payload;
  const body = storedBody();
  return body === undefined ? { payloadSha256: null, payloadBytes: null } : payloadDigest(body);
};

/** The columns an entry fills in both stores' inserts, in the order of {@link entryValues}. */
export const ENTRY_COLUMNS = `at, oem, destination, destination_ip, destination_country, record_id, pseudonym, purpose, policy_hash,
  fields_sent, fields_dropped, outcome, attempt, http_status, error, payload_sha256, payload_bytes, trace_id, delivery_id`;

/** An entry's values for {@link ENTRY_COLUMNS}: the field lists as JSON text, absent ids as NULL. */
export const entryValues = (
  e: EgressLogEntry,
  payloadSha256: string | null,
  payloadBytes: number | null,
): unknown[] => [
  e.at,
  e.oem,
  e.destination,
  e.destinationIp,
  e.destinationCountry,
  e.recordId,
  e.pseudonym,
  e.purpose,
  e.policyHash,
  JSON.stringify(e.fieldsSent),
  JSON.stringify(e.fieldsDropped),
  e.outcome,
  e.attempt,
  e.httpStatus,
  e.error,
  payloadSha256,
  payloadBytes,
  e.traceId ?? null,
  e.deliveryId ?? null,
];

/**
 * The WHERE clause of `listEgressLog` over `egress_log e`, in either dialect; the limit is bound
 * last. An empty id or OEM filters nothing, as an absent one.
 */
export function egressLogFilter(
  f: Parameters<EgressLogStore['listEgressLog']>[0] = {},
  param: Param,
): { where: string; limit: string } {
  const where: string[] = [];
  if (f.recordId) where.push(`e.record_id = ${param(f.recordId)}`);
  if (f.deliveryId) where.push(`e.delivery_id = ${param(f.deliveryId)}`);
  if (f.oem) where.push(`e.oem = ${param(f.oem)}`);
  return { where: whereAll(where), limit: param(f.limit ?? 1000) };
}
