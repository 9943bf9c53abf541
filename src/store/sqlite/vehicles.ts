import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { VehicleRow, VehicleStore } from '../types.js';
import { ShekaraError } from '../../errors.js';
import type { Sync } from './sync.js';

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
  const get = db.prepare(`SELECT * FROM vehicles WHERE vin = ?`);
  const list = db.prepare(`SELECT * FROM vehicles ORDER BY vin`);
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
        if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new ShekaraError('SHK_STORE_VEHICLE_EXISTS', `vehicle ${v.vin} is already registered`, { cause });
        }
        throw cause;
      }
    },
    getVehicle: (vin) => toVehicle(get.get(vin)),
    listVehicles: () => list.all().map((r) => toVehicle(r)!),
    rotateVehicleSecret: (vin, s, now) => rotate.run(s.secretHash, s.secretSalt, now, vin).changes > 0,
    revokeVehicleCredentials: (vin, now) => revoke.run(now, vin).changes > 0,
  };
}

function toVehicle(row: unknown): VehicleRow | undefined {
  if (!row) return undefined;
  const r = row as {
    vin: string;
    oem: string;
    secret_hash: Buffer;
    secret_salt: Buffer;
    created_at: number;
    revoked_at: number | null;
    secret_set_at: number | null;
  };
  return {
    vin: r.vin,
    oem: r.oem,
    secretHash: r.secret_hash,
    secretSalt: r.secret_salt,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    secretSetAt: r.secret_set_at ?? r.created_at,
  };
}
