/**
 * What both stores share about vehicles: the `vehicles` row and its mapping, and the refusal of
 * a second registration. DDL and statements stay per dialect (sqlite.ts, pg.ts): a replacing
 * registration is INSERT OR REPLACE on SQLite and an upsert on PostgreSQL.
 */
import { ShekaraError } from '../../errors.js';
import type { VehicleRow } from './types.js';

export const VEHICLE_COLUMNS = 'vin, oem, secret_hash, secret_salt, created_at, revoked_at, secret_set_at';

/** The `vehicles` table's row, as both drivers return it (BLOB/BYTEA as a Buffer). */
export interface VehicleDbRow {
  vin: string;
  oem: string;
  secret_hash: Buffer;
  secret_salt: Buffer;
  created_at: number;
  revoked_at: number | null;
  /** A nullable column (added by 0012, which backfilled it): created_at stands in for null. */
  secret_set_at: number | null;
}

export const toVehicle = (r: VehicleDbRow): VehicleRow => ({
  vin: r.vin,
  oem: r.oem,
  secretHash: r.secret_hash,
  secretSalt: r.secret_salt,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  secretSetAt: r.secret_set_at ?? r.created_at,
});

/** A VIN is registered once unless the caller asks to replace it. */
export const vehicleExists = (vin: string, cause: unknown): ShekaraError =>
  new ShekaraError('SHK_STORE_VEHICLE_EXISTS', `vehicle ${vin} is already registered`, { cause });
