/**
 * The retention area's contract, shared by both stores (src/store/retention/{sqlite,pg}.ts) and
 * the sweep that calls it (./sweep.ts): each category of local personal data is deleted once
 * older than its period. The egress log and its Merkle tables are exempt.
 */

/** How long each category of local data is kept (config `retention`). The egress log is exempt. */
export interface RetentionPeriods {
  readonly rawRecordsDays: number;
  readonly routePointsDays: number;
  readonly accountDataDays: number;
}

/** What a retention sweep or an erasure removed, per category. */
export interface RemovedCounts {
  records: number;
  routePoints: number;
  accountData: number;
  quarantine: number;
}

/** Retention: removes personal data past its period; the egress log and its Merkle tables are never touched. */
export interface RetentionStore {
  /**
   * Deletes raw records (and quarantined payloads) older than `rawRecordsDays` by arrival,
   * route points older than `routePointsDays` by arrival (not the car's own time), account data older than
   * `accountDataDays` by arrival. A record whose outbox rows are not all settled is kept until
   * they are (nothing accepted is lost); its settled outbox rows go with it.
   */
  applyRetention(nowMs: number, periods: RetentionPeriods): Promise<RemovedCounts>;
}
