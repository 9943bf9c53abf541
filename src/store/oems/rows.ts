/**
 * What both stores share about the OEM registry: the `oems` row and its mapping, the refusal of a
 * taken id, and (./definition.ts) the comparison that decides what a seeding changes. DDL and
 * statements stay per dialect (sqlite.ts, pg.ts): SQLite's one writer serializes a seeding;
 * PostgreSQL holds the registry's advisory lock.
 */
import { ShekaraError } from '../../errors.js';
import type { OemRow, OemSource } from './types.js';

export const OEM_COLUMNS =
  'id, name, endpoint, allowed_countries, allow_private_networks, signing_key_file, mtls, source, disabled_at, created_at, updated_at';

/**
 * The `oems` table's row as either driver returns it: SQLite keeps the lists as JSON text and the
 * flag as 0/1; PostgreSQL hands back JSONB parsed and a boolean.
 */
export interface OemDbRow {
  id: string;
  name: string;
  endpoint: string;
  allowed_countries: string | string[];
  allow_private_networks: number | boolean;
  signing_key_file: string | null;
  mtls: string | OemRow['mtls'];
  source: string;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
}

const json = <T>(v: string | T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

export const toOem = (r: OemDbRow): OemRow => ({
  id: r.id,
  name: r.name,
  endpoint: r.endpoint,
  allowedCountries: json<string[]>(r.allowed_countries),
  allowPrivateNetworks: r.allow_private_networks === true || r.allow_private_networks === 1,
  signingKeyFile: r.signing_key_file,
  mtls: r.mtls === null ? null : json<NonNullable<OemRow['mtls']>>(r.mtls),
  source: r.source as OemSource,
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** An OEM id is registered once. */
export const oemTaken = (id: string, cause?: unknown): ShekaraError =>
  new ShekaraError('SHK_ADMIN_CONFLICT', `OEM ${id} is already registered`, { cause, details: { field: 'id' } });
