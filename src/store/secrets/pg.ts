/** Local secrets on PostgreSQL (the contract: ./types.ts), shared by every instance. */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import type { SecretStore } from './types.js';

export const SECRET_MIGRATIONS: PgMigration[] = [
  {
    id: '0001-local-secrets',
    sql: `
  -- Key material that never leaves the country (pseudonymization, signing).
  CREATE TABLE local_secrets (
    name   TEXT PRIMARY KEY,
    value  BYTEA NOT NULL
  );`,
  },
];

export function pgSecrets(db: Db): SecretStore {
  return {
    async purgeFreedPages() {
      await db.query(`VACUUM local_secrets, egress_signing_keys`);
    },
    listSecretNames: async () =>
      (await db.query<{ name: string }>(`SELECT name FROM local_secrets ORDER BY name`)).map((r) => r.name),
    async replaceSecret(name, value) {
      await db.query(`UPDATE local_secrets SET value = $2 WHERE name = $1`, [name, value]);
    },
    getSecret: async (name) =>
      (await db.query<{ value: Buffer }>(`SELECT value FROM local_secrets WHERE name = $1`, [name]))[0]?.value,
    async putSecretIfAbsent(name, value) {
      // Several instances may create the same key at once: the first insert wins, all read it.
      await db.query(`INSERT INTO local_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
        name,
        value,
      ]);
      return (await db.query<{ value: Buffer }>(`SELECT value FROM local_secrets WHERE name = $1`, [name]))[0]!.value;
    },
  };
}
