/**
 * Vehicles on SQLite (the contract: ./types.ts): registration, secret rotation and revocation of
 * the device credentials.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import {
  DECOY_VIN,
  VEHICLE_COLUMNS,
  toAuthVehicle,
  toVehicle,
  vehicleAuthQuery,
  vehicleExists,
  type VehicleAuthDbRow,
  type VehicleDbRow,
} from './rows.js';
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
  {
    // Equal work to refuse a registered and an unknown VIN (red-team L4): what an unknown VIN's
    // look-up reads instead of a vehicle row (rows.ts vehicleAuthQuery). A table of its own, so
    // no listing, count, export or erasure of vehicles can see it; random secret bytes that are
    // never compared against.
    id: '0130-vehicle-auth-decoy',
    sql: `
  CREATE TABLE vehicle_auth_decoy (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    vin           TEXT NOT NULL,
    oem           TEXT NOT NULL,
    secret_hash   BLOB NOT NULL,
    secret_salt   BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    secret_set_at INTEGER
  ) STRICT;
  INSERT INTO vehicle_auth_decoy (id, vin, oem, secret_hash, secret_salt, created_at, secret_set_at)
    VALUES (1, '${DECOY_VIN}', 'not-an-oem', randomblob(32), randomblob(16),
      CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));`,
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
  const forAuth = db.prepare(vehicleAuthQuery('?'));
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
    getVehicleForAuth: (vin) => toAuthVehicle(forAuth.get(vin) as VehicleAuthDbRow),
    listVehicles: () => (list.all() as VehicleDbRow[]).map(toVehicle),
    rotateVehicleSecret: (vin, s, now) => rotate.run(s.secretHash, s.secretSalt, now, vin).changes > 0,
    revokeVehicleCredentials: (vin, now) => revoke.run(now, vin).changes > 0,
  };
}
