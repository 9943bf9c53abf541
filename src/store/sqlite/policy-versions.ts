/**
 * Uploaded policy versions, one row per (OEM, content hash). Uploading stores; activating is
 * a row in policy_activations (policy-history.ts), so a rollback is the activation of an
 * older hash and the history says when each version was in force.
 */
import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { PolicyVersionRow, PolicyVersionStore } from '../types.js';
import type { Sync } from './sync.js';

export const POLICY_VERSION_MIGRATIONS: Migration[] = [
  {
    id: '0014-policy-versions',
    sql: `
  CREATE TABLE policy_versions (
    oem          TEXT NOT NULL,
    policy_hash  TEXT NOT NULL,
    content      TEXT NOT NULL,
    source       TEXT NOT NULL,
    uploaded_at  INTEGER NOT NULL,
    PRIMARY KEY (oem, policy_hash)
  ) STRICT;`,
  },
];

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

export function sqlitePolicyVersions(db: Database.Database): Sync<PolicyVersionStore> {
  const put = db.prepare(
    `INSERT OR IGNORE INTO policy_versions (oem, policy_hash, content, source, uploaded_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const get = db.prepare(`SELECT * FROM policy_versions WHERE oem = ? AND policy_hash = ?`);
  const list = db.prepare(`SELECT * FROM policy_versions WHERE oem = ? ORDER BY uploaded_at DESC, rowid DESC`);
  return {
    putPolicyVersion: (v) => put.run(v.oem, v.policyHash, v.content, v.source, v.uploadedAt).changes > 0,
    getPolicyVersion: (oem, hash) => {
      const r = get.get(oem, hash) as VersionDbRow | undefined;
      return r && toRow(r);
    },
    listPolicyVersions: (oem) => (list.all(oem) as VersionDbRow[]).map(toRow),
  };
}
