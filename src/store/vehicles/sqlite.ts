/**
 * Vehicles on SQLite (the contract: ./types.ts): registration, secret rotation and revocation of
 * the device credentials.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import { VEHICLE_COLUMNS, toVehicle, vehicleExists, type VehicleDbRow } from './rows.js';
import type { VehicleStore } from './types.js';

export const VEHICLE_MIGRATIONS: Migration[] = [
  {
    id: '0001-vehicles',
    sql: `
  CREATE TABLE vehicles (
    vin          TEXT PRIMARY KEY,
    oem          TEXT NOT NULL,
    secret_hash  BLOB NOT NULL,
    secret_salt  BLOB NOT NULL,
    created_at   INTEGER NOT NULL
  ) STRICT;`,
  },
  {
    // Device credentials can be rotated and revoked (operator admin): a revoked car is refused
    // whatever it presents, secret or certificate.
    id: '0012-vehicle-credentials',
    sql: `
  ALTER TABLE vehicles ADD COLUMN revoked_at INTEGER;
  ALTER TABLE vehicles ADD COLUMN secret_set_at INTEGER;
  UPDATE vehicles SET secret_set_at = created_at;`,
  },
];

export function sqliteVehicles(db: Database.Database): Sync<VehicleStore> {
  const insert = db.prepare(
    `INSERT INTO vehicles (vin, oem, secret_hash, secret_salt, created_at, secret_set_at) VALUES (@vin, @oem, @hash, @salt, @now, @now)`,
  );
  const replace = db.prepare(
    `INSERT OR REPLACE INTO vehicles (vin, oem, secret_hash, secret_salt, created_at, secret_set_at) VALUES (@vin, @oem, @hash, @salt, @now, @now)`,
  );
  const get = db.prepare(`SELECT ${VEHICLE_COLUMNS} FROM vehicles WHERE vin = ?`);
  const list = db.prepare(`SELECT ${VEHICLE_COLUMNS} FROM vehicles ORDER BY vin`);
  const rotate = db.prepare(
    `UPDATE vehicles SET secret_hash = ?, secret_salt = ?, secret_set_at = ?, revoked_at = NULL WHERE vin = ?`,
  );
  const revoke = db.prepare(`UPDATE vehicles SET revoked_at = ? WHERE vin = ? AND revoked_at IS NULL`);
  return {
    registerVehicle(v) {
      try {
        (v.replace ? replace : insert).run({
          vin: v.vin,
          oem: v.oem,
          hash: v.secretHash,
          salt: v.secretSalt,
          now: Date.now(),
        });
      } catch (cause) {
        if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw vehicleExists(v.vin, cause);
        throw cause;
      }
    },
    getVehicle(vin) {
      const row = get.get(vin) as VehicleDbRow | undefined;
      return row ? toVehicle(row) : undefined;
    },
    listVehicles: () => (list.all() as VehicleDbRow[]).map(toVehicle),
    rotateVehicleSecret: (vin, s, now) => rotate.run(s.secretHash, s.secretSalt, now, vin).changes > 0,
    revokeVehicleCredentials: (vin, now) => revoke.run(now, vin).changes > 0,
  };
}
