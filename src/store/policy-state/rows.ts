/**
 * What both stores share about the policy state: how long an unsaved trip state is kept. DDL and
 * statements stay per dialect (sqlite.ts, pg.ts): PostgreSQL saves a batch with one unnest
 * insert and reads the replay with one query; SQLite prepares its statements once.
 */

/** A trip state not saved for this long is deleted at the next save (it names a VIN). */
export const TRIP_STATE_KEPT_MS = 86_400_000;
