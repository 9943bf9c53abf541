/** Uploaded policy versions, one row per (OEM, content hash); the SQLite twin: store/sqlite/policy-versions.ts. */
import type { PgMigration } from './migrate.js';
import type { Db } from './db.js';
import type { PolicyVersionRow, PolicyVersionStore } from '../types.js';

export const POLICY_VERSION_MIGRATIONS: PgMigration[] = [
  {
    id: '0014-policy-versions',
    sql: `
  CREATE TABLE policy_versions (
    oem          TEXT NOT NULL,
    policy_hash  TEXT NOT NULL,
    content      TEXT NOT NULL,
    source       TEXT NOT NULL,
    uploaded_at  BIGINT NOT NULL,
    -- Upload order, for versions uploaded in the same millisecond (SQLite's rowid).
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (oem, policy_hash)
  );`,
  },
];

const COLUMNS = 'oem, policy_hash, content, source, uploaded_at';

interface VersionDbRow {
  oem: string;
  policy_hash: string;
  content: string;
  source: string;
  uploaded_at: number;
}
const toRow = (r: VersionDbRow): PolicyVersionRow => ({
  oem: r.oem,
  policyHash: r.policy_hash,
  content: r.content,
  source: r.source,
  uploadedAt: r.uploaded_at,
});

export function pgPolicyVersions(db: Db): PolicyVersionStore {
  return {
    // The primary key decides between instances uploading the same text at once: one stores it.
    putPolicyVersion: async (v) =>
      (
        await db.query(
          `INSERT INTO policy_versions (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (oem, policy_hash) DO NOTHING RETURNING seq`,
          [v.oem, v.policyHash, v.content, v.source, v.uploadedAt],
        )
      ).length > 0,
    getPolicyVersion: async (oem, hash) =>
      (
        await db.query<VersionDbRow>(`SELECT ${COLUMNS} FROM policy_versions WHERE oem = $1 AND policy_hash = $2`, [
          oem,
          hash,
        ])
      ).map(toRow)[0],
    listPolicyVersions: async (oem) =>
      (
        await db.query<VersionDbRow>(
          `SELECT ${COLUMNS} FROM policy_versions WHERE oem = $1
      ORDER BY uploaded_at DESC, seq DESC`,
          [oem],
        )
      ).map(toRow),
  };
}
