/**
 * Erasure (an owner's right) in PostgreSQL, as on SQLite (./sqlite.ts; the contract: ./types.ts): one transaction
 * removes a vehicle's records (raw payloads included), route points, account data and
 * quarantined payloads, each counted; its outbox rows not yet delivered are marked 'blocked'
 * first (an outcome never reopens a blocked row, see ../outbox/pg.ts), so nothing of it leaves after
 * the erasure commits. The egress log and its Merkle tables are never touched: they hold no VIN,
 * only pseudonyms and digests, and the regulator must still be able to verify them.
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import { blockUndelivered } from '../outbox/pg.js';
import type { ErasureStore } from './types.js';

export const ERASURE_MIGRATIONS: PgMigration[] = [
  {
    // On SQLite this drops the outbox's foreign key to records (a table rebuild) and recreates the
    // outbox indexes with two VIN indexes. PostgreSQL's outbox never had that key (0003), has the
    // outbox indexes already, and gets quarantine_vin and account_data_vin in 0033-retention (the
    // feed indexes come with feed_seq in 0020-oem-pull-feed). Nothing is left to do: the migration
    // exists so both backends record the same ids.
    id: '0032-outbox-outlives-erasure',
    sql: `SELECT 1;`,
  },
];

export function pgErasure(db: Db): ErasureStore {
  return {
    eraseVehicle: (vin) =>
      db.tx(async (t) => {
        // Blocked before the records go: the outbox finds a vehicle's rows through its records.
        await blockUndelivered(t, vin);
        const count = async (table: string) =>
          (
            await t.query<{ n: number }>(
              `WITH d AS (DELETE FROM ${table} WHERE vin = $1 RETURNING 1) SELECT count(*) AS n FROM d`,
              [vin],
            )
          )[0]!.n;
        const accountData = await count('account_data');
        const routePoints = await count('route_points');
        const records = await count('records');
        const quarantine = await count('quarantine');
        await t.query(`DELETE FROM mqtt_qos2 WHERE vin = $1`, [vin]);
        await t.query(`DELETE FROM mqtt_broker_deliveries WHERE vin = $1`, [vin]);
        await t.query(`DELETE FROM policy_trip_state WHERE vin = $1`, [vin]);
        await t.query(`DELETE FROM gbt32960_terminals WHERE vin = $1`, [vin]);
        return { accountData, routePoints, records, quarantine };
      }),
  };
}
