import type { PgMigration } from './migrate.js';
import type { Db } from './db.js';
import type { VehicleRow, VehicleStore } from '../types.js';
import { ShekaraError } from '../../errors.js';

export const VEHICLE_MIGRATIONS: PgMigration[] = [{
  id: '0001-vehicles',
  sql: `
  CREATE TABLE vehicles (
    vin          TEXT PRIMARY KEY,
    oem          TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL,
    secret_salt  BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
  );`,
}];

const COLUMNS = 'vin, oem, secret_hash, secret_salt, created_at';

export function pgVehicles(db: Db): Omit<VehicleStore, 'rotateVehicleSecret' | 'revokeVehicleCredentials'> {  // TODO(group A)
  return {
    async registerVehicle(v) {
      const args = [v.vin, v.oem, v.secretHash, v.secretSalt, Date.now()];
      try {
        await db.query(v.replace
          ? `INSERT INTO vehicles (${COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (vin) DO UPDATE
              SET oem = EXCLUDED.oem, secret_hash = EXCLUDED.secret_hash, secret_salt = EXCLUDED.secret_salt, created_at = EXCLUDED.created_at`
          : `INSERT INTO vehicles (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, args);
      } catch (cause) {
        if ((cause as { code?: string }).code === '23505') {
          throw new ShekaraError('SHK_STORE_VEHICLE_EXISTS', `vehicle ${v.vin} is already registered`, { cause });
        }
        throw cause;
      }
    },
    getVehicle: async (vin) => (await db.query<VehicleDbRow>(`SELECT ${COLUMNS} FROM vehicles WHERE vin = $1`, [vin])).map(toVehicle)[0],
    listVehicles: async () => (await db.query<VehicleDbRow>(`SELECT ${COLUMNS} FROM vehicles ORDER BY vin COLLATE "C"`)).map(toVehicle),
  };
}

interface VehicleDbRow { vin: string; oem: string; secret_hash: Buffer; secret_salt: Buffer; created_at: number }

const toVehicle = (r: VehicleDbRow): VehicleRow => ({ vin: r.vin, oem: r.oem, secretHash: r.secret_hash, secretSalt: r.secret_salt, createdAt: r.created_at, revokedAt: null, secretSetAt: r.created_at });  // TODO(group A): credentials
