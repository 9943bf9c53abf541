/**
 * Erasure (an owner's right, issue 6) in SQLite: one transaction removes a vehicle's local
 * personal data; its outbox rows not yet delivered are marked 'blocked' first (an outcome never
 * reopens a blocked row, see outbox.ts), so nothing of it leaves after the erasure commits. The
 * egress log and its Merkle tables are never touched: they hold no VIN, only pseudonyms.
 */
import type Database from 'better-sqlite3';
import type { LifecycleStore } from '../types.js';

export function sqliteErasure(db: Database.Database): Pick<LifecycleStore, 'eraseVehicle'> {
  const block = db.prepare(`UPDATE egress_outbox SET status = 'blocked', lease_until = 0
    WHERE status IN ('pending', 'published') AND record_id IN (SELECT id FROM records WHERE vin = ?)`);
  const remove = (table: string) => db.prepare(`DELETE FROM ${table} WHERE vin = ?`);
  const [points, account, quarantine, records] = ['route_points', 'account_data', 'quarantine', 'records'].map(remove) as [Database.Statement, Database.Statement, Database.Statement, Database.Statement];
  const erase = db.transaction((vin: string) => {
    block.run(vin);
    return { routePoints: points.run(vin).changes, accountData: account.run(vin).changes, quarantine: quarantine.run(vin).changes, records: records.run(vin).changes };
  });
  return { eraseVehicle: async (vin) => erase(vin) };
}
