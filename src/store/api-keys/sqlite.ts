/**
 * Bearer API keys for the HTTP APIs, one role each (regulator, operator, oem, owner-app); an
 * oem key is also bound to one OEM (its scope). Stored hashed; the key format and its check:
 * ./rows.ts. The contract: ./types.ts.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import { API_KEY_COLUMNS, authenticatedRow, mintApiKey, parseApiKey, toApiKeyRow, type KeyDbRow } from './rows.js';
import type { ApiKeyStore } from './types.js';

export const API_KEY_MIGRATIONS: Migration[] = [
  {
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
  },
  {
    // An OEM key is bound to its OEM (tenant isolation in /oem/v1); other roles have no scope.
    id: '0010-api-key-scope',
    sql: `ALTER TABLE api_keys ADD COLUMN scope TEXT;`,
  },
];

export function sqliteApiKeys(db: Database.Database): Sync<ApiKeyStore> {
  const insert = db.prepare(
    `INSERT INTO api_keys (id, role, scope, label, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const get = db.prepare(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = ?`);
  const list = db.prepare(`SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`);
  const revoke = db.prepare(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`);
  return {
    createApiKey({ role, label, now, scope = null }) {
      const k = mintApiKey();
      insert.run(k.id, role, scope, label, k.keyHash, now);
      return { id: k.id, key: k.key };
    },
    authenticateApiKey(key) {
      const parsed = parseApiKey(key);
      return parsed && authenticatedRow(get.get(parsed.id) as KeyDbRow | undefined, parsed.secret);
    },
    listApiKeys: () => (list.all() as KeyDbRow[]).map(toApiKeyRow),
    revokeApiKey: (id, now) => revoke.run(now, id).changes > 0,
  };
}
