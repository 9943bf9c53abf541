/**
 * Webhook signing keys on PostgreSQL (the contract: ./types.ts), as on SQLite (./sqlite.ts):
 * the first rotation records the key the OEM signed with until then as version 0, so every key
 * that ever signed is kept, with when it stopped. Keys are local secrets: they never leave the
 * country except to their OEM, once.
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import { KEY_COLUMNS, toSigningKey, type KeyDbRow } from './rows.js';
import type { SigningKeyRow, SigningKeyStore } from './types.js';

export const SIGNING_KEY_MIGRATIONS: PgMigration[] = [
  {
    id: '0021-egress-signing-keys',
    sql: `
  CREATE TABLE egress_signing_keys (
    oem        TEXT NOT NULL,
    version    INTEGER NOT NULL,
    key        BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retires_at BIGINT,
    PRIMARY KEY (oem, version)
  );`,
  },
];

export function pgSigningKeys(db: Db): SigningKeyStore {
  return {
    listAllSigningKeys: async () =>
      (await db.query<KeyDbRow>(`SELECT ${KEY_COLUMNS} FROM egress_signing_keys ORDER BY oem, version DESC`)).map(
        toSigningKey,
      ),
    async replaceSigningKey(oem, version, key) {
      await db.query(`UPDATE egress_signing_keys SET key = $3 WHERE oem = $1 AND version = $2`, [oem, version, key]);
    },
    async listSigningKeys(oem) {
      return (
        await db.query<KeyDbRow>(
          `SELECT ${KEY_COLUMNS} FROM egress_signing_keys WHERE oem = $1 ORDER BY version DESC`,
          [oem],
        )
      ).map(toSigningKey);
    },
    rotateSigningKey: (r) =>
      db.tx(async (t): Promise<SigningKeyRow> => {
        // Read the newest version, then write the next: two instances rotating at once (SQLite's
        // single writer serializes them) would both write the same version. Under the lock the
        // second one sees the first's key and rotates after it, as on SQLite.
        await t.lock('signing-keys');
        const [newest] = await t.query<{ version: number }>(
          `SELECT version FROM egress_signing_keys WHERE oem = $1 ORDER BY version DESC LIMIT 1`,
          [r.oem],
        );
        const insert = (version: number, key: Buffer) =>
          t.query(`INSERT INTO egress_signing_keys (oem, version, key, created_at) VALUES ($1, $2, $3, $4)`, [
            r.oem,
            version,
            key,
            r.now,
          ]);
        if (!newest) await insert(0, r.seed);
        // Every older key stops at the latest when the new overlap ends: at most two keys sign at
        // once, and a rotation with no overlap is a hard switch even right after another rotation.
        await t.query(
          `UPDATE egress_signing_keys SET retires_at = $1 WHERE oem = $2 AND (retires_at IS NULL OR retires_at > $1)`,
          [r.previousRetiresAt, r.oem],
        );
        const version = (newest?.version ?? 0) + 1;
        await insert(version, r.key);
        return { oem: r.oem, version, key: r.key, createdAt: r.now, retiresAt: null };
      }),
  };
}
