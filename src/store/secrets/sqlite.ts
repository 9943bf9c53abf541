/** Local secrets on SQLite (the contract: ./types.ts). */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import type { SecretStore } from './types.js';

export const SECRET_MIGRATIONS: Migration[] = [
  {
    id: '0001-local-secrets',
    sql: `
  -- Key material that never leaves the country (pseudonymization, signing).
  CREATE TABLE local_secrets (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
  ) STRICT;`,
  },
];

export function sqliteSecrets(db: Database.Database): Sync<SecretStore> {
  const get = db.prepare(`SELECT value FROM local_secrets WHERE name = ?`).pluck();
  const put = db.prepare(`INSERT OR IGNORE INTO local_secrets (name, value) VALUES (?, ?)`);
  const names = db.prepare(`SELECT name FROM local_secrets ORDER BY name`).pluck();
  const replace = db.prepare(`UPDATE local_secrets SET value = ? WHERE name = ?`);
  return {
    listSecretNames: () => names.all() as string[],
    // secure_delete (set at open) zeroes freed cells; the checkpoint takes the old pages out of the WAL.
    purgeFreedPages() {
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    replaceSecret(name, value) {
      replace.run(value, name);
    },
    getSecret: (name) => get.get(name) as Buffer | undefined,
    putSecretIfAbsent(name, value) {
      put.run(name, value);
      return get.get(name) as Buffer;
    },
  };
}
