/**
 * The regulator's read side of the egress log in PostgreSQL, answering exactly as SQLite's
 * (./sqlite-queries.ts): keyset pagination by seq, byte-order (COLLATE "C") sorting
 * and NULLs first, as SQLite sorts. Reads only; nothing here writes.
 */
import type { Db } from '../pg/db.js';
import { LOG_COLUMNS } from '../egress-log/pg.js';
import { toLogRow, type LogDbRow } from '../egress-log/rows.js';
import { toEgressEntry as toEntry, type EntryDbRow } from './rows.js';
import { egressLeaf } from '../../audit/leaf.js';
import type { AuditQueryStore, EgressSearch, ExportedLeaf, SummaryRow } from './types.js';

export function pgAuditQueries(db: Db): AuditQueryStore {
  return {
    async searchEgress(filter, afterSeq, limit) {
      const args: unknown[] = [afterSeq];
      const where = conditions(filter, args);
      args.push(limit);
      return (
        await db.query<EntryDbRow>(
          `SELECT ${LOG_COLUMNS}, e.leaf_index FROM egress_log e
        WHERE e.seq > $1 ${where.map((w) => `AND ${w}`).join(' ')} ORDER BY e.seq LIMIT $${args.length}`,
          args,
        )
      ).map(toEntry);
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
      const args: unknown[] = [];
      const where = conditions(filter, args);
      return db.query<SummaryRow>(
        `SELECT to_char(to_timestamp(e.at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, e.oem AS oem,
          e.destination_country AS "destinationCountry", f.value AS field,
          count(DISTINCT e.record_id) AS records, sum(COALESCE(e.payload_bytes, 0))::bigint AS bytes
        FROM egress_log e CROSS JOIN LATERAL jsonb_array_elements_text(e.fields_sent) AS f(value)
        WHERE e.outcome = 'delivered' ${where.map((w) => `AND ${w}`).join(' ')}
        GROUP BY 1, e.oem, e.destination_country, f.value
        ORDER BY 1, e.oem COLLATE "C", e.destination_country COLLATE "C" NULLS FIRST, f.value COLLATE "C"`,
        args,
      );
    },
  };
}

/** SQL conditions of a search; parameters are appended to `args` (numbered after what it holds). */
export function conditions(f: EgressSearch, args: unknown[]): string[] {
  const where: string[] = [];
  const add = (sql: (p: string) => string, v: unknown) => {
    args.push(v);
    where.push(sql(`$${args.length}`));
  };
  if (f.oem !== undefined) add((p) => `e.oem = ${p}`, f.oem);
  if (f.pseudonyms !== undefined) add((p) => `e.pseudonym = ANY(${p}::text[])`, f.pseudonyms);
  if (f.from !== undefined) add((p) => `e.at >= ${p}`, f.from);
  if (f.to !== undefined) add((p) => `e.at < ${p}`, f.to);
  if (f.field !== undefined) add((p) => `e.fields_sent ? ${p}::text`, f.field);
  if (f.country !== undefined) add((p) => `e.destination_country = ${p}`, f.country);
  if (f.outcome !== undefined) add((p) => `e.outcome = ${p}`, f.outcome);
  if (f.policyHash !== undefined) add((p) => `e.policy_hash = ${p}`, f.policyHash);
  if (f.recordId !== undefined) add((p) => `e.record_id = ${p}`, f.recordId);
  if (f.deliveryId !== undefined) add((p) => `e.delivery_id = ${p}`, f.deliveryId);
  return where;
}
