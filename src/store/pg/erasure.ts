/**
 * Erasure (an owner's right, issue 6) in PostgreSQL: one transaction removes a vehicle's local
 * personal data; its outbox rows not yet delivered are marked 'blocked' first (an outcome never
 * reopens a blocked row, see outbox.ts), so nothing of it leaves after the erasure commits. The
 * egress log and its Merkle tables are never touched: they hold no VIN, only pseudonyms.
 */
import type { Db } from './db.js';
import type { ErasureStore } from '../types.js';

export function pgErasure(db: Db): ErasureStore {
  return {
    eraseVehicle: (vin) => db.tx(async (t) => {
      await t.query(`UPDATE egress_outbox SET status = 'blocked', lease_until = 0
        WHERE status IN ('pending', 'published') AND record_id IN (SELECT id FROM records WHERE vin = $1)`, [vin]);
      const count = async (table: string) =>
        (await t.query<{ n: number }>(`WITH d AS (DELETE FROM ${table} WHERE vin = $1 RETURNING 1) SELECT count(*) AS n FROM d`, [vin]))[0]!.n;
      return { routePoints: await count('route_points'), accountData: await count('account_data'), quarantine: await count('quarantine'), records: await count('records') };
    }),
  };
}
