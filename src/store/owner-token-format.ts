/**
 * The owner token format, shared by every store backend: `sho_<id>_<secret>`
 * (store/bearer-secret.ts, as API keys). The clear token exists only in `createOwnerToken`'s
 * return value.
 */
import { bearerFormat } from './bearer-secret.js';

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
