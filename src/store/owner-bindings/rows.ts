/**
 * What both stores share about owner bindings: the owner token format, `sho_<id>_<secret>`
 * (../bearer-secret.ts, as API keys), and the `owner_tokens` row and its mapping. The clear
 * token exists only in `createOwnerToken`'s return value. DDL and statements stay per dialect
 * (sqlite.ts, pg.ts): PostgreSQL reads a token's VINs in the same query, SQLite in a second one.
 */
import { bearerFormat } from '../bearer-secret.js';
import type { OwnerBindingRow } from './types.js';

const TOKENS = bearerFormat('sho');

/** A new token: the clear `token` for the caller, the `id` and `tokenHash` to store. */
export function mintOwnerToken(): { id: string; token: string; tokenHash: Buffer } {
  const t = TOKENS.mint();
  return { id: t.id, token: t.value, tokenHash: t.hash };
}

/** The id and secret of a well-formed token; undefined for anything else. */
export const parseOwnerToken = (token: string) => TOKENS.parse(token);

/** Whether a stored token row is unrevoked and `secret` is its secret (constant-time compare). */
export const ownerTokenMatches = (
  row: { token_hash: Buffer; revoked_at: number | null } | undefined,
  secret: string,
): boolean => row !== undefined && row.revoked_at === null && TOKENS.matches(row.token_hash, secret);

/** The `owner_tokens` columns, of the table as `t`. */
export const TOKEN_COLUMNS = 't.id, t.owner_ref, t.token_hash, t.created_at, t.revoked_at';

/** The `owner_tokens` table's row, as both drivers return it (BLOB/BYTEA as a Buffer). */
export interface TokenDbRow {
  id: string;
  owner_ref: string;
  token_hash: Buffer;
  created_at: number;
  revoked_at: number | null;
}

/** A token row with the VINs it covers. */
export const toOwnerBinding = (r: TokenDbRow, vins: readonly string[]): OwnerBindingRow => ({
  id: r.id,
  ownerRef: r.owner_ref,
  vins,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});
