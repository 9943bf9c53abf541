/**
 * The owner's report area's contract, shared by both stores (src/store/owner-report/{sqlite,pg}.ts):
 * totals of the egress log over the regulator's search filter. Reads only.
 */
import type { EgressSearch } from '../audit/types.js';

/** Totals of the egress log per OEM × purpose × outcome × pseudonym (the owner's report). */
export interface EgressTotalRow {
  readonly oem: string;
  readonly purpose: string;
  readonly outcome: string;
  readonly pseudonym: string;
  readonly entries: number;
  /** Distinct records. */
  readonly records: number;
  readonly bytes: number;
}

/** The owner's report (this folder: sqlite.ts, pg.ts): totals over the same filter as searchEgress. */
export interface OwnerReportStore {
  egressTotals(filter: EgressSearch): Promise<EgressTotalRow[]>;
}
