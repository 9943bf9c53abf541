/** The owner's report: totals of the egress log per OEM × purpose × outcome × pseudonym, over a search filter. Reads only. */
import type Database from 'better-sqlite3';
import { SQLITE_SEARCH } from '../audit/sqlite-queries.js';
import { egressSearchFilter } from '../audit/rows.js';
import { sqliteParams, whereAll } from '../sql-filter.js';
import type { EgressTotalRow, OwnerReportStore } from './types.js';
import type { Sync } from '../sqlite/sync.js';

export function sqliteOwnerReport(db: Database.Database): Sync<OwnerReportStore> {
  return {
    egressTotals(filter) {
      const { args, param } = sqliteParams();
      const sql = `SELECT e.oem AS oem, e.purpose AS purpose, e.outcome AS outcome, e.pseudonym AS pseudonym, COUNT(*) AS entries,
          COUNT(DISTINCT e.record_id) AS records, SUM(COALESCE(e.payload_bytes, 0)) AS bytes
        FROM egress_log e ${whereAll(egressSearchFilter(filter, param, SQLITE_SEARCH))}
        GROUP BY e.oem, e.purpose, e.outcome, e.pseudonym ORDER BY e.oem, e.purpose, e.outcome, e.pseudonym`;
      return db.prepare(sql).all(...args) as EgressTotalRow[];
    },
  };
}
