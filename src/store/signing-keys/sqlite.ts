/**
 * Webhook signing keys on SQLite (the contract: ./types.ts): per OEM, with their rotations
 * (POST /oem/v1/webhook-secret/rotate). Before the first rotation an OEM signs with its generated
 * local secret (egress/sign.ts); the first rotation records that key as version 0, so every key
 * that ever signed is kept, with when it stopped. Keys are local secrets: they never leave the country except to their OEM, once.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import { KEY_COLUMNS, toSigningKey, type KeyDbRow } from './rows.js';
import type { SigningKeyRow, SigningKeyStore } from './types.js';

export const SIGNING_KEY_MIGRATIONS: Migration[] = [
  {
    id: '0021-egress-signing-keys',
    sql: `
  CREATE TABLE egress_signing_keys (
    oem        TEXT NOT NULL,
    version    INTEGER NOT NULL,
    key        BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retires_at INTEGER,
    PRIMARY KEY (oem, version)
  ) STRICT;`,
  },
];

export function sqliteSigningKeys(db: Database.Database): Sync<SigningKeyStore> {
  const list = db.prepare(`SELECT ${KEY_COLUMNS} FROM egress_signing_keys WHERE oem = ? ORDER BY version DESC`);
  const insert = db.prepare(`INSERT INTO egress_signing_keys (oem, version, key, created_at) VALUES (?, ?, ?, ?)`);
  // Every older key stops at the latest when the new overlap ends: at most two keys sign at once,
  // and a rotation with no overlap is a hard switch even right after another rotation.
  const retire = db.prepare(
    `UPDATE egress_signing_keys SET retires_at = @at WHERE oem = @oem AND (retires_at IS NULL OR retires_at > @at)`,
  );
  const rotate = db.transaction((r: Parameters<SigningKeyStore['rotateSigningKey']>[0]): SigningKeyRow => {
    const newest = list.get(r.oem) as KeyDbRow | undefined;
    if (!newest) insert.run(r.oem, 0, r.seed, r.now);
    retire.run({ at: r.previousRetiresAt, oem: r.oem });
    const version = (newest?.version ?? 0) + 1;
    insert.run(r.oem, version, r.key, r.now);
    return { oem: r.oem, version, key: r.key, createdAt: r.now, retiresAt: null };
  });
  const all = db.prepare(`SELECT ${KEY_COLUMNS} FROM egress_signing_keys ORDER BY oem, version DESC`);
  const replace = db.prepare(`UPDATE egress_signing_keys SET key = ? WHERE oem = ? AND version = ?`);
  return {
    listSigningKeys: (oem) => (list.all(oem) as KeyDbRow[]).map(toSigningKey),
    listAllSigningKeys: () => (all.all() as KeyDbRow[]).map(toSigningKey),
    replaceSigningKey(oem, version, key) {
      replace.run(key, oem, version);
    },
    rotateSigningKey(r) {
      return rotate(r);
    },
  };
}
