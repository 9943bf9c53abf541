/** Bearer API keys on PostgreSQL, stored hashed (the contract: ./types.ts; the format: ./rows.ts). */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import { API_KEY_COLUMNS, authenticatedRow, mintApiKey, parseApiKey, toApiKeyRow, type KeyDbRow } from './rows.js';
import type { ApiKeyStore } from './types.js';

export const API_KEY_MIGRATIONS: PgMigration[] = [
  {
    id: '0008-api-keys',
    sql: `
  CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    label      TEXT NOT NULL,
    key_hash   BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
  );`,
  },
  {
    // An OEM key is bound to its OEM (tenant isolation in /oem/v1); other roles have no scope.
    id: '0010-api-key-scope',
    sql: `ALTER TABLE api_keys ADD COLUMN scope TEXT;`,
  },
];

export function pgApiKeys(db: Db): ApiKeyStore {
  return {
    async createApiKey({ role, label, now, scope = null }) {
      const k = mintApiKey();
      await db.query(
        `INSERT INTO api_keys (id, role, scope, label, key_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [k.id, role, scope, label, k.keyHash, now],
      );
      return { id: k.id, key: k.key };
    },
    async authenticateApiKey(key) {
      const parsed = parseApiKey(key);
      return (
        parsed &&
        authenticatedRow(
          (await db.query<KeyDbRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = $1`, [parsed.id]))[0],
          parsed.secret,
        )
      );
    },
    listApiKeys: async () =>
      (await db.query<KeyDbRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id COLLATE "C"`)).map(
        toApiKeyRow,
      ),
    revokeApiKey: async (id, now) =>
      (
        await db.query(`UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id`, [
          now,
          id,
        ])
      ).length > 0,
  };
}
