/**
 * The API key format, shared by every store backend. A key is `shk_<id>_<secret>`: the id finds
 * the row, the secret is checked against its SHA-256 in constant time. 256 random bits need no
 * salt or slow hash; the clear key exists only in `createApiKey`'s return value.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRow, ApiRole } from './types.js';

const KEY_RE = /^shk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** A new key: the clear `key` for the caller, the `id` and `keyHash` to store. */
export function mintApiKey(): { id: string; key: string; keyHash: Buffer } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `shk_${id}_${secret}`, keyHash: hashSecret(secret) };
}

/** The id and secret of a well-formed key; undefined for anything else. */
export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const m = KEY_RE.exec(key);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export interface KeyDbRow { id: string; role: string; scope: string | null; label: string; key_hash: Buffer; created_at: number; revoked_at: number | null }

/** The row when it is unrevoked and `secret` is its secret (constant-time compare); undefined otherwise. */
export function authenticatedRow(row: KeyDbRow | undefined, secret: string): ApiKeyRow | undefined {
  if (!row || row.revoked_at !== null) return undefined;
  return timingSafeEqual(row.key_hash, hashSecret(secret)) ? toApiKeyRow(row) : undefined;
}

export const toApiKeyRow = (r: KeyDbRow): ApiKeyRow => ({ id: r.id, role: r.role as ApiRole, scope: r.scope, label: r.label, createdAt: r.created_at, revokedAt: r.revoked_at });
