/**
 * The regulator's read side of the egress log in PostgreSQL, answering exactly as SQLite's
 * (./sqlite-queries.ts): keyset pagination by seq, byte-order (COLLATE "C") sorting
 * and NULLs first, as SQLite sorts. Reads only; nothing here writes.
 */
import type { Db } from '../pg/db.js';
import { LOG_COLUMNS } from '../egress-log/pg.js';
import { toLogRow, type LogDbRow } from '../egress-log/rows.js';
import { egressSearchFilter, toEgressEntry as toEntry, type EgressSearchDialect, type EntryDbRow } from './rows.js';
import { egressLeaf } from '../../audit/leaf.js';
import type { AuditQueryStore, ExportedLeaf, SummaryRow } from './types.js';
import { pgParams, whereAll } from '../sql-filter.js';

export function pgAuditQueries(db: Db): AuditQueryStore {
  return {
    async searchEgress(filter, afterSeq, limit) {
      const { args, param } = pgParams();
      const sql = `SELECT ${LOG_COLUMNS}, e.leaf_index FROM egress_log e
        ${whereAll([`e.seq > ${param(afterSeq)}`, ...egressSearchFilter(filter, param, PG_SEARCH)])}
        ORDER BY e.seq LIMIT ${param(limit)}`;
      return (await db.query<EntryDbRow>(sql, args)).map(toEntry);
    },
    egressEntry: async (seq) =>
      (await db.query<EntryDbRow>(`SELECT ${LOG_COLUMNS}, e.leaf_index FROM egress_log e WHERE e.seq = $1`, [seq])).map(
        toEntry,
      )[0],
    pseudonymsOfVin: async (vin) =>
      (
        await db.query<{ pseudonym: string }>(
          `SELECT DISTINCT e.pseudonym COLLATE "C" AS pseudonym
        FROM records r JOIN egress_log e ON e.record_id = r.id WHERE r.vin = $1 ORDER BY 1`,
          [vin],
        )
      ).map((r) => r.pseudonym),
    async exportLeaves(afterIndex, before, limit) {
      const rows = await db.query<
        Partial<LogDbRow> & { l_index: number; l_kind: string; l_hash: Buffer; event_body: string | null }
      >(
        `
        SELECT ${LOG_COLUMNS}, l.leaf_index AS l_index, l.kind AS l_kind, l.leaf_hash AS l_hash, ev.body AS event_body
        FROM audit_leaves l
        LEFT JOIN egress_log e ON l.kind = 'egress' AND e.seq = l.ref
        LEFT JOIN audit_events ev ON l.kind <> 'egress' AND ev.id = l.ref
        WHERE l.leaf_index > $1 AND l.leaf_index < $2 ORDER BY l.leaf_index LIMIT $3`,
        [afterIndex, before, limit],
      );
      return rows.map((r): ExportedLeaf => ({
        index: r.l_index,
        leafHash: r.l_hash.toString('hex'),
        // A leaf whose row is missing exports an empty entry: the verifier names it.
        entry:
          r.l_kind === 'egress'
            ? r.seq === null || r.seq === undefined
              ? {}
              : egressLeaf(
                  {
                    ...toLogRow(r as LogDbRow),
                    payloadSha256: r.payload_sha256 ?? null,
                    payloadBytes: r.payload_bytes ?? null,
                  },
                  r.l_index,
                )
            : r.event_body === null
              ? {}
              : (JSON.parse(r.event_body) as Record<string, unknown>),
      }));
    },
    async egressSummary(filter) {
      const { args, param } = pgParams();
      return db.query<SummaryRow>(
        `SELECT to_char(to_timestamp(e.at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, e.oem AS oem,
          e.destination_country AS "destinationCountry", f.value AS field,
          count(DISTINCT e.record_id) AS records, sum(COALESCE(e.payload_bytes, 0))::bigint AS bytes
        FROM egress_log e CROSS JOIN LATERAL jsonb_array_elements_text(e.fields_sent) AS f(value)
        ${whereAll([`e.outcome = 'delivered'`, ...egressSearchFilter(filter, param, PG_SEARCH)])}
        GROUP BY 1, e.oem, e.destination_country, f.value
        ORDER BY 1, e.oem COLLATE "C", e.destination_country COLLATE "C" NULLS FIRST, f.value COLLATE "C"`,
        args,
      );
    },
  };
}

/** JSON membership in PostgreSQL: the pseudonyms bound as a text[], the field asked of the JSONB list with `?`. */
export const PG_SEARCH: EgressSearchDialect = {
  pseudonymIn: (pseudonyms, param) => `e.pseudonym = ANY(${param(pseudonyms)}::text[])`,
  fieldSent: (field, param) => `e.fields_sent ? ${param(field)}::text`,
};
