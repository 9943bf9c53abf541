/**
 * What both stores share about signing keys: the `egress_signing_keys` row and its mapping. DDL
 * and statements stay per dialect (sqlite.ts, pg.ts): a rotation reads the newest version and
 * writes the next, which SQLite's single writer serializes and PostgreSQL does under a lock.
 */
import type { SigningKeyRow } from './types.js';

export const KEY_COLUMNS = 'oem, version, key, created_at, retires_at';

/** The `egress_signing_keys` row, as both drivers return it (BLOB/BYTEA as a Buffer). */
export interface KeyDbRow {
  oem: string;
  version: number;
  key: Buffer;
  created_at: number;
  retires_at: number | null;
}

export const toSigningKey = (k: KeyDbRow): SigningKeyRow => ({
  oem: k.oem,
  version: k.version,
  key: k.key,
  createdAt: k.created_at,
  retiresAt: k.retires_at,
});
