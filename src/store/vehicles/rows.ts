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

/**
 * The look-up a vehicle authentication makes (VehicleStore.getVehicleForAuth): always one row,
 * the vehicle's if the VIN is registered, else the decoy's (`vehicle_auth_decoy`, one row of
 * the same shape, made by migration 0130), with `found` saying which. Either way the store reads
 * one row from a B-tree and the driver hands over the same columns (two blobs of 32 and 16
 * bytes, two strings, three numbers) to map, so an unknown VIN costs what a registered one does.
 * `param` is the placeholder of the dialect (`?`, `$1::text`). A missing decoy row (deleted by
 * hand) refuses unknown VINs all the same: its columns are NULL and `found` is false.
 */
export const vehicleAuthQuery = (param: string): string =>
  `SELECT v.vin IS NOT NULL AS found, ${VEHICLE_COLUMNS.split(', ')
    .map((c) => `CASE WHEN v.vin IS NULL THEN d.${c} ELSE v.${c} END AS ${c}`)
    .join(', ')}
  FROM (SELECT ${param} AS want) q
  LEFT JOIN vehicles v ON v.vin = q.want
  LEFT JOIN vehicle_auth_decoy d ON v.vin IS NULL`;

/** `vehicleAuthQuery`'s row: SQLite answers `found` as 0 / 1, PostgreSQL as a boolean. */
export type VehicleAuthDbRow = VehicleDbRow & { found: boolean | number };

/** Maps the row whichever it is (the same work), then hands on only a registered vehicle's. */
export const toAuthVehicle = (r: VehicleAuthDbRow): VehicleRow | undefined => {
  const v = toVehicle(r);
  return r.found ? v : undefined;
};

/** The decoy row's columns but `id`, as both migrations 0130 fill them (vin: 17 characters, not a VIN). */
export const DECOY_VIN = 'not-a-vehicle-vin';

/** A VIN is registered once unless the caller asks to replace it. */
export const vehicleExists = (vin: string, cause: unknown): ShekaraError =>
  new ShekaraError('SHK_STORE_VEHICLE_EXISTS', `vehicle ${vin} is already registered`, { cause });
