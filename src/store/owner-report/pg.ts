/**
 * The owner's report in PostgreSQL, as on SQLite (./sqlite.ts; the contract: ./types.ts): totals of the egress log per
 * OEM × purpose × outcome × pseudonym, over the same filter as searchEgress. Reads only. Sorted in
 * byte order (COLLATE "C"), as SQLite sorts text.
 */
import type { Db } from '../pg/db.js';
import { PG_SEARCH } from '../audit/pg-queries.js';
import { egressSearchFilter } from '../audit/rows.js';
import { pgParams, whereAll } from '../sql-filter.js';
import type { EgressTotalRow, OwnerReportStore } from './types.js';

export function pgOwnerReport(db: Db): OwnerReportStore {
  return {
    async egressTotals(filter) {
      const { args, param } = pgParams();
      return db.query<EgressTotalRow>(
        `SELECT e.oem AS oem, e.purpose AS purpose, e.outcome AS outcome, e.pseudonym AS pseudonym, count(*) AS entries,
          count(DISTINCT e.record_id) AS records, sum(COALESCE(e.payload_bytes, 0))::bigint AS bytes
        FROM egress_log e ${whereAll(egressSearchFilter(filter, param, PG_SEARCH))}
        GROUP BY e.oem, e.purpose, e.outcome, e.pseudonym
        ORDER BY e.oem COLLATE "C", e.purpose COLLATE "C", e.outcome COLLATE "C", e.pseudonym COLLATE "C"`,
        args,
      );
    },
  };
}
