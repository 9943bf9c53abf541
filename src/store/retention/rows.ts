/**
 * What both stores share about retention: the cut-off of each category, and the count of what a
 * sweep removed. The statements stay per dialect (sqlite.ts, pg.ts): SQLite deletes in small
 * batches with a turn of the event loop between them, PostgreSQL drops whole route-point
 * partitions and deletes the rest in batches.
 */
import type { RemovedCounts, RetentionPeriods } from './types.js';

const DAY_MS = 86_400_000;

/** Per category, the arrival time before which its rows are past their period at `nowMs`. */
export const cutoffs = (nowMs: number, periods: RetentionPeriods) => {
  const cut = (days: number) => nowMs - days * DAY_MS;
  return {
    accountData: cut(periods.accountDataDays),
    /** Raw records and quarantined payloads. */
    raw: cut(periods.rawRecordsDays),
    routePoints: cut(periods.routePointsDays),
  };
};

/** A sweep's count before it removes anything. */
export const noneRemoved = (): RemovedCounts => ({ records: 0, routePoints: 0, accountData: 0, quarantine: 0 });
