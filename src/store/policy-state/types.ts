/**
 * The policy state area's contract, shared by both stores (src/store/policy-state/{sqlite,pg}.ts):
 * what the policy engine reloads at start so that its rate and trip rules hold across a restart.
 * Re-exported by ../types.ts, which composes `Store`.
 */

/** What the policy engine reloads at start so that its rate rules hold across a restart. */
export interface PolicyStateStore {
  /**
   * Per purpose and VIN, the latest `observedAt` among `oem`'s projections whose record was
   * received at or after `sinceMs` (committed projections only: one that never committed never left).
   */
  lastSends(
    oem: string,
    sinceMs: number,
  ): Promise<{ readonly purpose: string; readonly vin: string; readonly observedAt: number }[]>;
  /**
   * Saves trip states (one JSON text per OEM, purpose and VIN; a newer one replaces the older)
   * and notes that every record `oem` received before `savedAt` is reflected in them.
   * States not saved for a day are deleted.
   */
  saveTripStates(oem: string, rows: readonly TripStateRow[], savedAt: number): Promise<void>;
  /** The saved trip states of `oem` and when they were last saved (null: never). */
  loadTripStates(oem: string): Promise<{ readonly savedAt: number | null; readonly rows: TripStateRow[] }>;
  /**
   * What the stateful rules saw of `oem`'s records received at or after `receivedSince`, or
   * observed at or after `observedSince` with a position, in order of receipt: to replay them.
   */
  policyReplay(oem: string, since: { receivedSince: number; observedSince: number }): Promise<ReplayRow[]>;
}

export interface TripStateRow {
  readonly purpose: string;
  readonly vin: string;
  readonly state: string;
}

/** A record as the stateful policy rules see it (positions, ignition state, speed). */
export interface ReplayRow {
  readonly vin: string;
  readonly receivedAt: number;
  readonly observedAt: number;
  readonly signals: Readonly<Record<string, unknown>>;
}
