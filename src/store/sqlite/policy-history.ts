import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { PolicyActivation, PolicyHistoryStore } from '../types.js';
import type { Sync } from './sync.js';

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

export function sqlitePolicyHistory(db: Database.Database): Sync<PolicyHistoryStore> {
  const latest = db
    .prepare(`SELECT policy_hash FROM policy_activations WHERE oem = ? ORDER BY id DESC LIMIT 1`)
    .pluck();
  const insert = db.prepare(
    `INSERT INTO policy_activations (oem, policy_hash, source, content, activated_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const listAll = db.prepare(`SELECT * FROM policy_activations ORDER BY id DESC`);
  const listOem = db.prepare(`SELECT * FROM policy_activations WHERE oem = ? ORDER BY id DESC`);
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
      ((oem === undefined ? listAll.all() : listOem.all(oem)) as ActivationDbRow[]).map((r): PolicyActivation => ({
        id: r.id,
        oem: r.oem,
        policyHash: r.policy_hash,
        source: r.source,
        content: r.content,
        activatedAt: r.activated_at,
      })),
  };
}

interface ActivationDbRow {
  id: number;
  oem: string;
  policy_hash: string;
  source: string;
  content: string;
  activated_at: number;
}
