/**
 * Bearer API keys for the HTTP APIs, one role each (regulator, operator, oem, owner-app); an
 * oem key is also bound to one OEM (its scope). A key is `shk_<id>_<secret>`: the id finds the row, the secret is checked against
 * its SHA-256 in constant time. 256 random bits need no salt or slow hash; the clear key
 * exists only in `createApiKey`'s return value.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { ApiKeyRow, ApiKeyStore, ApiRole } from '../types.js';
import type { Sync } from './sync.js';

export const API_KEY_MIGRATIONS: Migration[] = [{
  id: '0008-api-keys',
  sql: `
  CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    label      TEXT NOT NULL,
    key_hash   BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  ) STRICT;`,
}, {
  // An OEM key is bound to its OEM (tenant isolation in /oem/v1); other roles have no scope.
  id: '0010-api-key-scope',
  sql: `ALTER TABLE api_keys ADD COLUMN scope TEXT;`,
}];

const KEY_RE = /^shk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

export function sqliteApiKeys(db: Database.Database): Sync<ApiKeyStore> {
  const insert = db.prepare(`INSERT INTO api_keys (id, role, scope, label, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`);
  const get = db.prepare(`SELECT * FROM api_keys WHERE id = ?`);
  const list = db.prepare(`SELECT * FROM api_keys ORDER BY created_at, id`);
  const revoke = db.prepare(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`);
  return {
    createApiKey({ role, label, now, scope = null }) {
      const id = randomBytes(8).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      insert.run(id, role, scope, label, hashSecret(secret), now);
      return { id, key: `shk_${id}_${secret}` };
    },
    authenticateApiKey(key) {
      const m = KEY_RE.exec(key);
      if (!m) return undefined;
      const row = get.get(m[1]) as KeyDbRow | undefined;
      if (!row || row.revoked_at !== null) return undefined;
      return timingSafeEqual(row.key_hash, hashSecret(m[2]!)) ? toRow(row) : undefined;
    },
    listApiKeys: () => (list.all() as KeyDbRow[]).map(toRow),
    revokeApiKey: (id, now) => revoke.run(now, id).changes > 0,
  };
}

interface KeyDbRow { id: string; role: string; scope: string | null; label: string; key_hash: Buffer; created_at: number; revoked_at: number | null }

const toRow = (r: KeyDbRow): ApiKeyRow => ({ id: r.id, role: r.role as ApiRole, scope: r.scope, label: r.label, createdAt: r.created_at, revokedAt: r.revoked_at });
