/**
 * Vehicles on PostgreSQL (the contract: ./types.ts), as on SQLite (./sqlite.ts): a replacing
 * registration is an upsert that starts the vehicle over.
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
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

export const VEHICLE_MIGRATIONS: PgMigration[] = [
  {
    id: '0001-vehicles',
    sql: `
  CREATE TABLE vehicles (
    vin          TEXT PRIMARY KEY,
    oem          TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL,
    secret_salt  BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
  );`,
  },
  {
    // Device credentials can be rotated and revoked (operator admin): a revoked car is refused
    // whatever it presents, secret or certificate.
    id: '0012-vehicle-credentials',
    sql: `
  ALTER TABLE vehicles ADD COLUMN revoked_at BIGINT;
  ALTER TABLE vehicles ADD COLUMN secret_set_at BIGINT;
  UPDATE vehicles SET secret_set_at = created_at;`,
  },
  {
    // As on SQLite (./sqlite.ts): the row an unknown VIN's look-up reads (red-team L4).
    id: '0130-vehicle-auth-decoy',
    sql: `
  CREATE TABLE vehicle_auth_decoy (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    vin           TEXT NOT NULL,
    oem           TEXT NOT NULL,
    secret_hash   BYTEA NOT NULL,
    secret_salt   BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    secret_set_at BIGINT
  );
  INSERT INTO vehicle_auth_decoy (id, vin, oem, secret_hash, secret_salt, created_at, secret_set_at)
    VALUES (1, '${DECOY_VIN}', 'not-an-oem', sha256(gen_random_uuid()::text::bytea),
      decode(replace(gen_random_uuid()::text, '-', ''), 'hex'),
      (extract(epoch FROM now()) * 1000)::bigint, (extract(epoch FROM now()) * 1000)::bigint);`,
  },
];

const INSERT = `INSERT INTO vehicles (vin, oem, secret_hash, secret_salt, created_at, secret_set_at) VALUES ($1, $2, $3, $4, $5, $5)`;

export function pgVehicles(db: Db): VehicleStore {
  return {
    async registerVehicle(v) {
      const args = [v.vin, v.oem, v.secretHash, v.secretSalt, Date.now()];
      try {
        // A replaced vehicle starts over, as SQLite's INSERT OR REPLACE does: new secret, no revocation.
        await db.query(
          v.replace
            ? `${INSERT} ON CONFLICT (vin) DO UPDATE SET oem = EXCLUDED.oem, secret_hash = EXCLUDED.secret_hash, secret_salt = EXCLUDED.secret_salt,
              created_at = EXCLUDED.created_at, secret_set_at = EXCLUDED.secret_set_at, revoked_at = NULL`
            : INSERT,
          args,
        );
      } catch (cause) {
        if ((cause as { code?: string }).code === '23505') throw vehicleExists(v.vin, cause);
        throw cause;
      }
    },
    getVehicle: async (vin) =>
      (await db.query<VehicleDbRow>(`SELECT ${VEHICLE_COLUMNS} FROM vehicles WHERE vin = $1`, [vin])).map(toVehicle)[0],
    getVehicleForAuth: async (vin) =>
      toAuthVehicle((await db.query<VehicleAuthDbRow>(vehicleAuthQuery('$1::text'), [vin]))[0]!),
    listVehicles: async () =>
      (await db.query<VehicleDbRow>(`SELECT ${VEHICLE_COLUMNS} FROM vehicles ORDER BY vin COLLATE "C"`)).map(toVehicle),
    rotateVehicleSecret: async (vin, s, now) =>
      (
        await db.query(
          `UPDATE vehicles SET secret_hash = $1, secret_salt = $2, secret_set_at = $3, revoked_at = NULL
      WHERE vin = $4 RETURNING vin`,
          [s.secretHash, s.secretSalt, now, vin],
        )
      ).length > 0,
    revokeVehicleCredentials: async (vin, now) =>
      (
        await db.query(`UPDATE vehicles SET revoked_at = $1 WHERE vin = $2 AND revoked_at IS NULL RETURNING vin`, [
          now,
          vin,
        ])
      ).length > 0,
  };
}
