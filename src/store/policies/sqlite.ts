/**
 * Policies on SQLite (the contract: ./types.ts): uploaded versions and activations.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import type { PolicyHistoryStore, PolicyVersionStore } from './types.js';
import {
  ACTIVATION_COLUMNS,
  VERSION_COLUMNS,
  toActivation,
  toVersion,
  type ActivationDbRow,
  type VersionDbRow,
} from './rows.js';

export const POLICY_HISTORY_MIGRATIONS: Migration[] = [
  {
    id: '0006-policy-activations',
    sql: `
  -- Every policy version that became active, with its text: the hash on an egress-log row
  -- can be traced to the exact rules that decided.
  CREATE TABLE policy_activations (
    id            INTEGER PRIMARY KEY,
    oem           TEXT NOT NULL,
    policy_hash   TEXT NOT NULL,
    source        TEXT NOT NULL,
    content       TEXT NOT NULL,
    activated_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX policy_activations_oem ON policy_activations (oem, id);`,
  },
];

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

export function sqlitePolicyHistory(db: Database.Database): Sync<PolicyHistoryStore> {
  const latest = db
    .prepare(`SELECT policy_hash FROM policy_activations WHERE oem = ? ORDER BY id DESC LIMIT 1`)
    .pluck();
  const insert = db.prepare(
    `INSERT INTO policy_activations (oem, policy_hash, source, content, activated_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const listAll = db.prepare(`SELECT ${ACTIVATION_COLUMNS} FROM policy_activations ORDER BY id DESC`);
  const listOem = db.prepare(`SELECT ${ACTIVATION_COLUMNS} FROM policy_activations WHERE oem = ? ORDER BY id DESC`);
  const record = db.transaction(
    (a: { oem: string; policyHash: string; source: string; content: string; activatedAt: number }): boolean => {
      // A restart with the same file is not a new activation.
      if (latest.get(a.oem) === a.policyHash) return false;
      insert.run(a.oem, a.policyHash, a.source, a.content, a.activatedAt);
      return true;
    },
  );
  return {
    recordPolicyActivation: (a) => record(a),
    listPolicyActivations: (oem) =>
      ((oem === undefined ? listAll.all() : listOem.all(oem)) as ActivationDbRow[]).map(toActivation),
  };
}

export function sqlitePolicyVersions(db: Database.Database): Sync<PolicyVersionStore> {
  const put = db.prepare(
    `INSERT OR IGNORE INTO policy_versions (oem, policy_hash, content, source, uploaded_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const get = db.prepare(`SELECT ${VERSION_COLUMNS} FROM policy_versions WHERE oem = ? AND policy_hash = ?`);
  const list = db.prepare(
    `SELECT ${VERSION_COLUMNS} FROM policy_versions WHERE oem = ? ORDER BY uploaded_at DESC, rowid DESC`,
  );
  return {
    putPolicyVersion: (v) => put.run(v.oem, v.policyHash, v.content, v.source, v.uploadedAt).changes > 0,
    getPolicyVersion: (oem, hash) => {
      const r = get.get(oem, hash) as VersionDbRow | undefined;
      return r && toVersion(r);
    },
    listPolicyVersions: (oem) => (list.all(oem) as VersionDbRow[]).map(toVersion),
  };
}
