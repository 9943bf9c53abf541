/**
 * What both stores share about API keys: the key format, `shk_<id>_<secret>`
 * (../bearer-secret.ts), the `api_keys` row and the row an authenticated key reads back as. DDL
 * and statements stay per dialect (sqlite.ts, pg.ts).
 */
import type { ApiKeyRow, ApiRole } from './types.js';
import { bearerFormat } from '../bearer-secret.js';

const KEYS = bearerFormat('shk');

/** A new key: the clear `key` for the caller, the `id` and `keyHash` to store. */
export function mintApiKey(): { id: string; key: string; keyHash: Buffer } {
  const k = KEYS.mint();
  return { id: k.id, key: k.value, keyHash: k.hash };
}

/** The id and secret of a well-formed key; undefined for anything else. */
export const parseApiKey = (key: string) => KEYS.parse(key);

export const API_KEY_COLUMNS = 'id, role, scope, label, key_hash, created_at, revoked_at';

/** The `api_keys` table's row, as both drivers return it (BLOB/BYTEA as a Buffer). */
export interface KeyDbRow {
  id: string;
  role: string;
  scope: string | null;
  label: string;
  key_hash: Buffer;
  created_at: number;
  revoked_at: number | null;
}

/** The row when it is unrevoked and `secret` is its secret (constant-time compare); undefined otherwise. */
export function authenticatedRow(row: KeyDbRow | undefined, secret: string): ApiKeyRow | undefined {
  if (!row || row.revoked_at !== null) return undefined;
  return KEYS.matches(row.key_hash, secret) ? toApiKeyRow(row) : undefined;
}

export const toApiKeyRow = (r: KeyDbRow): ApiKeyRow => ({
  id: r.id,
  role: r.role as ApiRole,
  scope: r.scope,
  label: r.label,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});
