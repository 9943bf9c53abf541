import type { Db } from './db.js';
import type { PolicyStateStore } from '../types.js';

/**
 * The policy's rate state, read back from what is durable anyway: an outbox row commits in the
 * same transaction as its record, so the last projection made per OEM, purpose and vehicle is
 * exactly as durable as the record (store/sqlite/policy-state.ts says the same).
 */
export function pgPolicyState(db: Db): PolicyStateStore {
  return {
    lastSends: async (oem, sinceMs) =>
      db.query<{ purpose: string; vin: string; observedAt: number }>(
        `SELECT o.purpose AS purpose, r.vin AS vin, MAX(r.observed_at)::float8 AS "observedAt"
        FROM records r JOIN egress_outbox o ON o.record_id = r.id
        WHERE r.received_at >= $1 AND o.oem = $2 GROUP BY o.purpose, r.vin`,
        [sinceMs, oem],
      ),
  };
}
