/**
 * The store's interface for the owner side: consent and its logged changes,
 * objections to automated processing, erasure, the owner's report, and owner tokens
 * (./owner-bindings/types.ts, re-exported here). Split from
 * types.ts along that seam; the composed `Store` (types.ts) extends these. Asynchronous like
 * every store method.
 */
import type { EgressSearch } from './types.js';
import type { RemovedCounts } from './retention/types.js';

/** Who changed something on the owner's behalf, as the leaf names them (ids, never names). */
export interface RightsActor {
  /** `owner-app`, `operator`, `cli`… */
  readonly source: string;
  /** The API key's id (never the key), when the change came through an API. */
  readonly apiKey: string | null;
  /** The owner binding's id (src/api/owner/binding.ts), when an owner acted. */
  readonly owner: string | null;
}

export type { ConsentRow, ConsentStore, ConsentRegistryStore } from './consent/types.js';
export type { ObjectionStatus, ObjectionRow, ObjectionStore } from './objections/types.js';

/** Erasure of a vehicle's local personal data on its owner's request (store/sqlite/erasure.ts). */
export interface ErasureStore {
  /**
   * Removes the vehicle's records (raw payloads included), route points, account data and
   * quarantined payloads, and marks its outbox rows not yet delivered as blocked, in ONE
   * transaction. MUST NOT touch the egress log or the Merkle tables.
   */
  eraseVehicle(vin: string): Promise<RemovedCounts>;
}

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

/** The owner's report (store/sqlite/owner-report.ts): totals over the same filter as searchEgress. */
export interface OwnerReportStore {
  egressTotals(filter: EgressSearch): Promise<EgressTotalRow[]>;
}

export type { OwnerBindingRow, OwnerBindingStore } from './owner-bindings/types.js';
