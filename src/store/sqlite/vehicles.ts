import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { VehicleRow, VehicleStore } from '../types.js';
import { ShekaraError } from '../../errors.js';
import type { Sync } from './sync.js';

export const VEHICLE_MIGRATIONS: Migration[] = [{
  id: '0001-vehicles',
  sql: `
  CREATE TABLE vehicles (
    vin          TEXT PRIMARY KEY,
    oem          TEXT NOT NULL,
    secret_hash  BLOB NOT NULL,
    secret_salt  BLOB NOT NULL,
    created_at   INTEGER NOT NULL
  ) STRICT;`,
}];

export function sqliteVehicles(db: Database.Database): Sync<VehicleStore> {
  const insert = db.prepare(`INSERT INTO vehicles (vin, oem, secret_hash, secret_salt, created_at) VALUES (?, ?, ?, ?, ?)`);
  const replace = db.prepare(`INSERT OR REPLACE INTO vehicles (vin, oem, secret_hash, secret_salt, created_at) VALUES (?, ?, ?, ?, ?)`);
  const get = db.prepare(`SELECT * FROM vehicles WHERE vin = ?`);
  const list = db.prepare(`SELECT * FROM vehicles ORDER BY vin`);
  return {
    registerVehicle(v) {
      try {
        (v.replace ? replace : insert).run(v.vin, v.oem, v.secretHash, v.secretSalt, Date.now());
      } catch (cause) {
        if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new ShekaraError('SHK_STORE_VEHICLE_EXISTS', `vehicle ${v.vin} is already registered`, { cause });
        }
        throw cause;
      }
    },
    getVehicle: (vin) => toVehicle(get.get(vin)),
    listVehicles: () => list.all().map((r) => toVehicle(r)!),
  };
}

function toVehicle(row: unknown): VehicleRow | undefined {
  if (!row) return undefined;
  const r = row as { vin: string; oem: string; secret_hash: Buffer; secret_salt: Buffer; created_at: number };
  return { vin: r.vin, oem: r.oem, secretHash: r.secret_hash, secretSalt: r.secret_salt, createdAt: r.created_at };
}
