/**
 * The regulator's read side of the egress log: search with keyset pagination, one entry,
 * VIN → pseudonym resolution (re-identification; the API logs it as a leaf), the export the
 * verifier checks, and the per-day summary. Reads only; nothing here writes.
 */
import type Database from 'better-sqlite3';
import { egressLeaf } from '../../audit/leaf.js';
import { egressSearchFilter, toEgressEntry as toEntry, type EgressSearchDialect, type EntryDbRow } from './rows.js';
import type { AuditQueryStore, ExportedLeaf, SummaryRow } from './types.js';
import { sqliteParams, whereAll } from '../sql-filter.js';
import type { Sync } from '../sqlite/sync.js';
import { RECORD_IDS_OF_VIN } from '../records/sqlite.js';

/** Rows from before 0007-egress-merkle have no leaf_index column value; their leaf is found by a (slow) scan. */
const LEAF_INDEX = `COALESCE(e.leaf_index, (SELECT l.leaf_index FROM audit_leaves l WHERE l.kind = 'egress' AND l.ref = e.seq))`;

export function sqliteAuditQueries(db: Database.Database): Sync<AuditQueryStore> {
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string) => {
    let st = statements.get(sql);
    if (!st) {
      st = db.prepare(sql);
      statements.set(sql, st);
    }
    return st;
  };
  const pseudonyms = db
    .prepare(
      `SELECT DISTINCT e.pseudonym FROM egress_log e WHERE e.record_id IN (${RECORD_IDS_OF_VIN}) ORDER BY e.pseudonym`,
    )
    .pluck();
  // The self-check reads every new leaf (and a share of the old ones) through this before each
  // signing: only the columns a leaf holds, as arrays (row objects cost more than the query).
  const exportPage = db
    .prepare(
      `SELECT l.leaf_index, l.kind, l.leaf_hash, ev.body, e.seq, e.at, e.oem, e.destination, e.destination_ip,
        e.destination_country, e.record_id, e.pseudonym, e.purpose, e.policy_hash, e.fields_sent, e.fields_dropped,
        e.outcome, e.attempt, e.http_status, e.error, e.payload_sha256, e.payload_bytes
      FROM audit_leaves l
      LEFT JOIN egress_log e ON l.kind = 'egress' AND e.seq = l.ref
      LEFT JOIN audit_events ev ON l.kind <> 'egress' AND ev.id = l.ref
      WHERE l.leaf_index > ? AND l.leaf_index < ? ORDER BY l.leaf_index LIMIT ?`,
    )
    .raw();

  return {
    searchEgress(filter, afterSeq, limit) {
      const { args, param } = sqliteParams();
      const sql = `SELECT e.*, ${LEAF_INDEX} AS leaf_index FROM egress_log e
        ${whereAll([`e.seq > ${param(afterSeq)}`, ...egressSearchFilter(filter, param, SQLITE_SEARCH)])}
        ORDER BY e.seq LIMIT ${param(limit)}`;
      return (prepared(sql).all(...args) as EntryDbRow[]).map(toEntry);
    },
    egressEntry(seq) {
      const row = prepared(`SELECT e.*, ${LEAF_INDEX} AS leaf_index FROM egress_log e WHERE e.seq = ?`).get(seq);
      return row ? toEntry(row as EntryDbRow) : undefined;
    },
    pseudonymsOfVin: (vin) => pseudonyms.all(vin) as string[],
    exportLeaves(afterIndex, before, limit) {
      return (exportPage.all(afterIndex, before, limit) as ExportRow[]).map((r): ExportedLeaf => {
        const [index, kind, hash, body, seq] = r;
        return {
          index,
          leafHash: hash.toString('hex'),
          // A leaf whose row is missing exports an empty entry: the verifier names it.
          entry:
            kind === 'egress'
              ? seq === null
                ? {}
                : egressLeaf(
                    // Mapped here rather than through toLogRow: the row is an array (ExportRow's order).
                    {
                      seq,
                      at: r[5],
                      oem: r[6],
                      destination: r[7],
                      destinationIp: r[8],
                      destinationCountry: r[9],
                      recordId: r[10],
                      pseudonym: r[11],
                      purpose: r[12],
                      policyHash: r[13],
                      fieldsSent: JSON.parse(r[14]) as string[],
                      fieldsDropped: JSON.parse(r[15]) as string[],
                      outcome: r[16],
                      attempt: r[17],
                      httpStatus: r[18],
                      error: r[19],
                      payloadSha256: r[20],
                      payloadBytes: r[21],
                    },
                    index,
                  )
              : body === null
                ? {}
                : (JSON.parse(body) as Record<string, unknown>),
        };
      });
    },
    egressSummary(filter) {
      const { args, param } = sqliteParams();
      const sql = `SELECT strftime('%Y-%m-%d', e.at / 1000, 'unixepoch') AS day, e.oem AS oem, e.destination_country AS destinationCountry,
          f.value AS field, COUNT(DISTINCT e.record_id) AS records, SUM(COALESCE(e.payload_bytes, 0)) AS bytes
        FROM egress_log e, json_each(e.fields_sent) f
        ${whereAll([`e.outcome = 'delivered'`, ...egressSearchFilter(filter, param, SQLITE_SEARCH)])}
        GROUP BY day, e.oem, e.destination_country, f.value ORDER BY day, oem, destinationCountry, field`;
      return prepared(sql).all(...args) as SummaryRow[];
    },
  };
}

/** One row of `exportPage`, in its column order (the egress_log columns are null for an event's leaf). */
type ExportRow = [
  index: number,
  kind: string,
  hash: Buffer,
  body: string | null,
  seq: number | null,
  at: number,
  oem: string,
  destination: string,
  destinationIp: string | null,
  destinationCountry: string | null,
  recordId: string,
  pseudonym: string,
  purpose: string,
  policyHash: string,
  fieldsSent: string,
  fieldsDropped: string,
  outcome: string,
  attempt: number,
  httpStatus: number | null,
  error: string | null,
  payloadSha256: string | null,
  payloadBytes: number | null,
];

/** JSON membership in SQLite: a list bound as JSON text, walked with json_each (`s`: the summary's own is `f`). */
export const SQLITE_SEARCH: EgressSearchDialect = {
  pseudonymIn: (pseudonyms, param) =>
    `e.pseudonym IN (SELECT value FROM json_each(${param(JSON.stringify(pseudonyms))}))`,
  fieldSent: (field, param) => `EXISTS (SELECT 1 FROM json_each(e.fields_sent) s WHERE s.value = ${param(field)})`,
};
