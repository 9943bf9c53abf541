/**
 * The owner token format, shared by every store backend. A token is `sho_<id>_<secret>`: the id
 * finds the row, the secret is checked against its SHA-256 in constant time (256 random bits,
 * like API keys: store/api-key-format.ts). The clear token exists only in `createOwnerToken`'s
 * return value.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_RE = /^sho_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** A new token: the clear `token` for the caller, the `id` and `tokenHash` to store. */
export function mintOwnerToken(): { id: string; token: string; tokenHash: Buffer } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `sho_${id}_${secret}`, tokenHash: hashSecret(secret) };
}

/** The id and secret of a well-formed token; undefined for anything else. */
export function parseOwnerToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** Whether a stored token row is unrevoked and `secret` is its secret (constant-time compare). */
export const ownerTokenMatches = (row: { token_hash: Buffer; revoked_at: number | null } | undefined, secret: string): boolean =>
  row !== undefined && row.revoked_at === null && timingSafeEqual(row.token_hash, hashSecret(secret));
