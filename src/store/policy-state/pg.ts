import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import { TRIP_STATE_KEPT_MS } from './rows.js';
import type { PolicyStateStore, ReplayRow, TripStateRow } from './types.js';

/** The policy's state across restarts, as ./sqlite.ts (which says why; the contract: ./types.ts). */
export const POLICY_STATE_MIGRATIONS: PgMigration[] = [
  {
    id: '0062-policy-trip-state',
    sql: `
  CREATE TABLE policy_trip_state (
    oem       TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    vin       TEXT NOT NULL,
    state     TEXT NOT NULL,
    saved_at  BIGINT NOT NULL,
    PRIMARY KEY (oem, purpose, vin)
  );
  CREATE INDEX policy_trip_state_vin ON policy_trip_state (vin);
  CREATE INDEX policy_trip_state_saved ON policy_trip_state (oem, saved_at);
  CREATE TABLE policy_trip_saved (
    oem       TEXT PRIMARY KEY,
    saved_at  BIGINT NOT NULL
  );`,
  },
];

export function pgPolicyState(db: Db): PolicyStateStore {
  return {
    lastSends: async (oem, sinceMs) =>
      db.query<{ purpose: string; vin: string; observedAt: number }>(
        `SELECT o.purpose AS purpose, r.vin AS vin, MAX(r.observed_at)::float8 AS "observedAt"
        FROM records r JOIN egress_outbox o ON o.record_id = r.id
        WHERE r.received_at >= $1 AND o.oem = $2 GROUP BY o.purpose, r.vin`,
        [sinceMs, oem],
      ),
    saveTripStates: (oem, rows, savedAt) =>
      db.tx(async (t) => {
        if (rows.length > 0)
          await t.query(
            `INSERT INTO policy_trip_state (oem, purpose, vin, state, saved_at)
            SELECT $1, u.purpose, u.vin, u.state, $5 FROM unnest($2::text[], $3::text[], $4::text[]) AS u(purpose, vin, state)
            ON CONFLICT (oem, purpose, vin) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at`,
            [oem, rows.map((r) => r.purpose), rows.map((r) => r.vin), rows.map((r) => r.state), savedAt],
          );
        await t.query(`DELETE FROM policy_trip_state WHERE oem = $1 AND saved_at < $2`, [
          oem,
          savedAt - TRIP_STATE_KEPT_MS,
        ]);
        await t.query(
          `INSERT INTO policy_trip_saved (oem, saved_at) VALUES ($1, $2)
          ON CONFLICT (oem) DO UPDATE SET saved_at = excluded.saved_at`,
          [oem, savedAt],
        );
      }),
    loadTripStates: async (oem) => {
      const [mark] = await db.query<{ savedAt: number }>(
        `SELECT saved_at::float8 AS "savedAt" FROM policy_trip_saved WHERE oem = $1`,
        [oem],
      );
      const rows = await db.query<TripStateRow>(`SELECT purpose, vin, state FROM policy_trip_state WHERE oem = $1`, [
        oem,
      ]);
      return { savedAt: mark?.savedAt ?? null, rows };
    },
    policyReplay: (oem, since) =>
      db.query<ReplayRow>(
        `SELECT r.vin, r.received_at::float8 AS "receivedAt", r.observed_at::float8 AS "observedAt", r.signals, r.id
        FROM records r WHERE r.oem = $1 AND (r.received_at >= $2 OR (r.observed_at >= $3 AND r.id IN (
          SELECT p.record_id FROM route_points p WHERE p.observed_at >= $3)))
        ORDER BY r.received_at, r.id`,
        [oem, since.receivedSince, since.observedSince],
      ),
  };
}
