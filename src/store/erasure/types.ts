/**
 * The erasure area's contract, shared by both stores (src/store/erasure/{sqlite,pg}.ts): an
 * owner's erasure of their vehicle's local personal data. The egress log and its Merkle tables
 * are never touched.
 */
import type { RemovedCounts } from '../retention/types.js';

/** Erasure of a vehicle's local personal data on its owner's request (this folder: sqlite.ts, pg.ts). */
export interface ErasureStore {
  /**
   * Removes the vehicle's records (raw payloads included), route points, account data and
   * quarantined payloads, and marks its outbox rows not yet delivered as blocked, in ONE
   * transaction. MUST NOT touch the egress log or the Merkle tables.
   */
  eraseVehicle(vin: string): Promise<RemovedCounts>;
}
