/**
 * Retention in PostgreSQL: each category of personal data is deleted once older than
 * its period. Route points go a whole month partition at a time (DROP, no row-by-row delete,
 * no bloat); what is left — the month the cut-off falls in, the default partition — and the
 * other categories are deleted in batches, so no sweep holds one long transaction. The egress
 * log and its Merkle tables are exempt (and append-only).
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import { createRoutePartitions, dropRoutePartitions } from '../pg/route-partitions.js';
import type { RetentionStore } from './types.js';
import { cutoffs, noneRemoved } from './rows.js';

export const RETENTION_MIGRATIONS: PgMigration[] = [
  {
    id: '0033-retention',
    sql: `
  -- Retention finds expired rows by time, erasure finds a vehicle's rows by VIN.
  CREATE INDEX records_received ON records (received_at);
  CREATE INDEX account_data_received ON account_data (received_at);
  CREATE INDEX account_data_vin ON account_data (vin);
  CREATE INDEX quarantine_received ON quarantine (received_at);
  CREATE INDEX quarantine_vin ON quarantine (vin);`,
  },
  {
    // Route points expire by the time the gateway received them, not the car's own clock (a car
    // that says 2099 lands in the default partition and must not stay there). The car's time
    // stays as data and as the partition key. Rows from before: their car time.
    id: '0065-route-points-received',
    sql: `
  ALTER TABLE route_points ADD COLUMN received_at BIGINT;
  UPDATE route_points SET received_at = observed_at;
  ALTER TABLE route_points ALTER COLUMN received_at SET NOT NULL;
  CREATE INDEX route_points_received ON route_points (received_at);`,
  },
  {
    // On SQLite route points lose their VIN index to one over the points that outlived their
    // record (the writer's WAL bytes per record). PostgreSQL keeps route_points_vin_time: it is not
    // its bottleneck. The migration exists so both backends record the same ids.
    id: '0150-route-points-past-record',
    sql: `SELECT 1;`,
  },
  {
    // The same for account data on SQLite; PostgreSQL keeps account_data_vin.
    id: '0151-account-data-past-record',
    sql: `SELECT 1;`,
  },
];

const BATCH = 10_000;
/** Month partitions kept ready beyond the current month. */
export const MONTHS_AHEAD = 3;

/** Creates the route-point partitions for now and the months ahead (start-up); waits for the lock. */
export async function ensureRoutePartitions(db: Db, nowMs: number): Promise<string[]> {
  return db.tx(async (t) => {
    await t.lock('partitions');
    return createRoutePartitions(t, db.schema, nowMs, MONTHS_AHEAD);
  });
}

const counted = (del: string) => `WITH d AS (${del}) SELECT count(*) AS n FROM d`;

export function pgRetention(db: Db): RetentionStore {
  /** Runs a batched delete (`$1` cut-off, `$2` batch size; its deleted rows counted as `n`) until it deletes less than a batch. */
  const drain = async (sql: string, cutoff: number) => {
    let total = 0;
    for (;;) {
      const [row] = await db.query<{ n: number }>(sql, [cutoff, BATCH]);
      total += row!.n;
      if (row!.n < BATCH) return total;
    }
  };
  return {
    async applyRetention(nowMs, periods) {
      const cut = cutoffs(nowMs, periods);
      const removed = noneRemoved();
      removed.accountData = await drain(
        counted(`DELETE FROM account_data WHERE record_id IN (
        SELECT record_id FROM account_data WHERE received_at < $1 LIMIT $2) RETURNING 1`),
        cut.accountData,
      );
      removed.quarantine = await drain(
        counted(`DELETE FROM quarantine WHERE id IN (
        SELECT id FROM quarantine WHERE received_at < $1 LIMIT $2) RETURNING 1`),
        cut.raw,
      );
      // A record still on its way out (pending or published) is kept until it is settled; its
      // settled outbox rows (which hold the body sent) go with it.
      removed.records = await drain(
        `WITH doomed AS (
          SELECT r.id FROM records r WHERE r.received_at < $1
            AND NOT EXISTS (SELECT 1 FROM egress_outbox o WHERE o.record_id = r.id AND o.status IN ('pending', 'published'))
          LIMIT $2),
        settled AS (DELETE FROM egress_outbox o USING doomed d WHERE o.record_id = d.id),
        gone AS (DELETE FROM records r USING doomed d WHERE r.id = d.id RETURNING 1)
        SELECT count(*) AS n FROM gone`,
        cut.raw,
      );
      const routeCut = cut.routePoints;
      removed.routePoints = await db.tx(async (t) => {
        await t.lock('partitions');
        // DROP holds an ACCESS EXCLUSIVE lock on route_points for an instant; queued behind a
        // long transaction it would hold every insert behind it. Rather fail and retry next sweep.
        await t.query(`SET LOCAL lock_timeout = '5s'`);
        const dropped = await dropRoutePartitions(t, db.schema, routeCut);
        await createRoutePartitions(t, db.schema, nowMs, MONTHS_AHEAD);
        return dropped;
      });
      removed.routePoints += await drain(
        counted(`DELETE FROM route_points WHERE (record_id, observed_at) IN (
        SELECT record_id, observed_at FROM route_points WHERE received_at < $1 LIMIT $2) RETURNING 1`),
        routeCut,
      );
      return removed;
    },
  };
}
