import type Database from 'better-sqlite3';
import type { PolicyStateStore } from '../types.js';
import type { Sync } from './sync.js';

/**
 * The policy's rate state, read back from what is durable anyway: an outbox row commits in the
 * same transaction as its record, so the last projection made per OEM, purpose and vehicle is
 * exactly as durable as the record. (A projection that was never committed never left.)
 */
export function sqlitePolicyState(db: Database.Database): Sync<PolicyStateStore> {
  const last = db.prepare(`SELECT o.purpose AS purpose, r.vin AS vin, MAX(r.observed_at) AS observedAt
    FROM records r JOIN egress_outbox o ON o.record_id = r.id
    WHERE r.received_at >= ? AND o.oem = ? GROUP BY o.purpose, r.vin`);
  return {
    lastSends: (oem, sinceMs) => last.all(sinceMs, oem) as { purpose: string; vin: string; observedAt: number }[],
  };
}
