import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import { TRIP_STATE_KEPT_MS } from './rows.js';
import type { PolicyStateStore, ReplayRow, TripStateRow } from './types.js';

/**
 * The policy's state across restarts (src/policy/state.ts). The last sends are read back from
 * what is durable anyway: an outbox row commits in the same transaction as its record, so the
 * last projection made per OEM, purpose and vehicle is exactly as durable as the record (a
 * projection that was never committed never left). Trip states are saved every few seconds;
 * the records received since are replayed on top of them. The contract: ./types.ts.
 */
export const POLICY_STATE_MIGRATIONS: Migration[] = [
  {
    id: '0062-policy-trip-state',
    sql: `
  -- Trip state per OEM, purpose and vehicle: where trips start and end (home, work), so it names
  -- the VIN; erasure deletes it, and a state not saved for a day is deleted.
  CREATE TABLE policy_trip_state (
    oem       TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    vin       TEXT NOT NULL,
    state     TEXT NOT NULL,
    saved_at  INTEGER NOT NULL,
    PRIMARY KEY (oem, purpose, vin)
  ) STRICT;
  CREATE INDEX policy_trip_state_vin ON policy_trip_state (vin);
  CREATE INDEX policy_trip_state_saved ON policy_trip_state (oem, saved_at);
  -- Records an OEM received before saved_at are reflected in its saved trip states.
  CREATE TABLE policy_trip_saved (
    oem       TEXT PRIMARY KEY,
    saved_at  INTEGER NOT NULL
  ) STRICT;`,
  },
];

export function sqlitePolicyState(
  db: Database.Database,
): Sync<PolicyStateStore> & { erasePolicyState(vin: string): void } {
  const last = db.prepare(`SELECT o.purpose AS purpose, r.vin AS vin, MAX(r.observed_at) AS observedAt
    FROM records r JOIN egress_outbox o ON o.record_id = r.id
    WHERE r.received_at >= ? AND o.oem = ? GROUP BY o.purpose, r.vin`);
  const upsert = db.prepare(`INSERT INTO policy_trip_state (oem, purpose, vin, state, saved_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (oem, purpose, vin) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at`);
  const mark = db.prepare(`INSERT INTO policy_trip_saved (oem, saved_at) VALUES (?, ?)
    ON CONFLICT (oem) DO UPDATE SET saved_at = excluded.saved_at`);
  const stale = db.prepare(`DELETE FROM policy_trip_state WHERE oem = ? AND saved_at < ?`);
  const save = db.transaction((oem: string, rows: readonly TripStateRow[], savedAt: number) => {
    for (const r of rows) upsert.run(oem, r.purpose, r.vin, r.state, savedAt);
    stale.run(oem, savedAt - TRIP_STATE_KEPT_MS);
    mark.run(oem, savedAt);
  });
  const states = db.prepare(`SELECT purpose, vin, state FROM policy_trip_state WHERE oem = ?`);
  const savedAt = db.prepare(`SELECT saved_at FROM policy_trip_saved WHERE oem = ?`).pluck();
  const replay = db.prepare(`SELECT id, vin, received_at AS receivedAt, observed_at AS observedAt, signals
    FROM records WHERE oem = ? AND received_at >= ?
    UNION
    SELECT r.id, r.vin, r.received_at, r.observed_at, r.signals
    FROM route_points p JOIN records r ON r.id = p.record_id WHERE p.observed_at >= ? AND r.oem = ?
    ORDER BY 3, 1`);
  const erase = db.prepare(`DELETE FROM policy_trip_state WHERE vin = ?`);
  return {
    lastSends: (oem, sinceMs) => last.all(sinceMs, oem) as { purpose: string; vin: string; observedAt: number }[],
    saveTripStates: (oem, rows, at) => save(oem, rows, at),
    loadTripStates: (oem) => ({
      savedAt: (savedAt.get(oem) as number | undefined) ?? null,
      rows: states.all(oem) as TripStateRow[],
    }),
    policyReplay: (oem, since) =>
      (
        replay.all(oem, since.receivedSince, since.observedSince, oem) as (Omit<ReplayRow, 'signals'> & {
          signals: string;
        })[]
      ).map((r) => ({
        vin: r.vin,
        receivedAt: r.receivedAt,
        observedAt: r.observedAt,
        signals: JSON.parse(r.signals) as Record<string, unknown>,
      })),
    erasePolicyState: (vin) => void erase.run(vin),
  };
}
