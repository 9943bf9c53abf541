/**
 * The egress log's Merkle tree in SQLite (RFC 9162 §2.1): one leaf hash per entry, the root of
 * every perfect subtree (so proofs are O(log² n) look-ups, not O(n) hashes), the compact-range
 * frontier (so an append is O(log n) hashes), other leaf kinds (re-identification events), and
 * the signed checkpoints. Every table here is append-only, enforced by triggers.
 *
 * Durability contract: `appendLeaf` MUST be called inside the transaction that writes the
 * entry it hashes; the leaf, its nodes and the new frontier commit or roll back with it.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { CompactRange } from '../../audit/compact-range.js';
import { frontierFrom } from './frontier.js';
import { canonicalJson, entryLeafHash, type CanonicalValue, type LeafKind } from '../../audit/leaf.js';
import type { AuditStore } from './types.js';
import type { Sync } from '../sqlite/sync.js';
import {
  checkLeaf,
  eventEntry,
  forkedCheckpoint,
  stillCurrent,
  toCheckpoint,
  type CachedFrontier,
  type CheckpointDbRow,
} from './rows.js';

const appendOnly = (table: string) => `
  CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;
  CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;`;

export const AUDIT_MIGRATIONS: Migration[] = [
  {
    // A new migration rather than an edit of the shipped 0004-egress-log.
    id: '0007-egress-merkle',
    sql: `
  -- What was sent, without sending it again: SHA-256 (hex) and length of the exact body.
  ALTER TABLE egress_log ADD COLUMN payload_sha256 TEXT;
  ALTER TABLE egress_log ADD COLUMN payload_bytes INTEGER;
  -- The row's leaf in the tree (NULL only for rows older than this migration; see audit_leaves).
  ALTER TABLE egress_log ADD COLUMN leaf_index INTEGER;
  CREATE INDEX egress_log_at ON egress_log (at);
  CREATE INDEX egress_log_pseudonym ON egress_log (pseudonym);

  -- Leaf i of the tree: which row it hashes (kind 'egress' → egress_log.seq, else audit_events.id).
  CREATE TABLE audit_leaves (
    leaf_index INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    ref        INTEGER NOT NULL,
    leaf_hash  BLOB NOT NULL
  ) STRICT;
  -- Root of the perfect subtree of 2^level leaves starting at leaf idx·2^level (level >= 1).
  CREATE TABLE audit_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
  ) STRICT, WITHOUT ROWID;
  -- The compact range (frontier) needs no table of its own: its hashes are the perfect-subtree
  -- roots above (level 0: audit_leaves) named by the binary digits of the tree size.
  -- Leaves of other kinds (e.g. 'access': a regulator re-identified a VIN); body = the leaf, canonical JSON.
  CREATE TABLE audit_events (
    id   INTEGER PRIMARY KEY,
    at   INTEGER NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
  ) STRICT;
  CREATE TABLE audit_checkpoints (
    size      INTEGER PRIMARY KEY,
    root      BLOB NOT NULL,
    signed_at INTEGER NOT NULL,
    note      TEXT NOT NULL
  ) STRICT;
  ${appendOnly('audit_leaves')}${appendOnly('audit_nodes')}${appendOnly('audit_events')}${appendOnly('audit_checkpoints')}`,
  },
];

/** What a store area that writes entries needs from the tree. */
export interface AuditTreeWriter {
  /**
   * Appends one leaf inside the caller's transaction. `insertRow(index)` writes the entry's own
   * row and returns its id and the leaf object (which MUST carry `index`). Returns the index.
   */
  appendLeaf(
    kind: LeafKind,
    insertRow: (index: number) => { ref: number; entry: Record<string, CanonicalValue> },
  ): number;
}

export function sqliteAudit(db: Database.Database): Sync<AuditStore> & AuditTreeWriter {
  const insertLeaf = db.prepare(`INSERT INTO audit_leaves (leaf_index, kind, ref, leaf_hash) VALUES (?, ?, ?, ?)`);
  const insertNode = db.prepare(`INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)`);
  const getLeafHash = db.prepare(`SELECT leaf_hash FROM audit_leaves WHERE leaf_index = ?`).pluck();
  const getNode = db.prepare(`SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?`).pluck();
  const insertEvent = db.prepare(`INSERT INTO audit_events (at, kind, body) VALUES (?, ?, ?)`);
  const insertCheckpoint = db.prepare(
    `INSERT INTO audit_checkpoints (size, root, signed_at, note) VALUES (@size, @root, @signedAt, @note) ON CONFLICT (size) DO NOTHING`,
  );
  const latest = db.prepare(`SELECT * FROM audit_checkpoints ORDER BY size DESC LIMIT 1`);
  const bySize = db.prepare(`SELECT * FROM audit_checkpoints WHERE size = ?`);
  const atOrAfter = db.prepare(`SELECT * FROM audit_checkpoints WHERE size >= ? ORDER BY size LIMIT 1`);
  const history = db.prepare(`SELECT * FROM audit_checkpoints WHERE size < ? ORDER BY size DESC LIMIT ?`);

  // The frontier is cached (rows.ts `stillCurrent` says when it is trusted): a rolled-back
  // append (the caller's transaction failed), or leaves another connection appended, are
  // reloaded, never built upon.
  let cached: CachedFrontier | undefined;
  const getSize = db.prepare(`SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM audit_leaves`).pluck();
  const getHead = db.prepare(`SELECT leaf_index, leaf_hash FROM audit_leaves ORDER BY leaf_index DESC LIMIT 1`);
  const frontier = (): CompactRange => {
    const head = getHead.get() as { leaf_index: number; leaf_hash: Buffer } | undefined;
    const size = head ? head.leaf_index + 1 : 0;
    const c = cached;
    if (stillCurrent(c, size, head?.leaf_hash)) return c.tree;
    const tree = frontierFrom(
      size,
      (level, index) => (level === 0 ? getLeafHash.get(index) : getNode.get(level, index)) as Buffer | undefined,
    );
    cached = { tree, lastHash: head?.leaf_hash };
    return tree;
  };

  const appendLeaf: AuditTreeWriter['appendLeaf'] = (kind, insertRow) => {
    if (!db.inTransaction) throw new Error('appendLeaf must run inside the transaction that writes its entry');
    const tree = frontier();
    const index = tree.size;
    const { ref, entry } = insertRow(index);
    checkLeaf(entry, index, kind);
    const hash = entryLeafHash(entry);
    insertLeaf.run(index, kind, ref, hash);
    try {
      tree.append(hash, (level, idx, node) => insertNode.run(level, idx, node));
      cached = { tree, lastHash: hash };
    } catch (err) {
      cached = undefined;
      throw err;
    }
    return index;
  };

  const appendEvent = db.transaction((kind: LeafKind, at: number, body: Record<string, CanonicalValue>) =>
    appendLeaf(kind, (index) => {
      const entry = eventEntry(body, kind, index, at);
      return { ref: Number(insertEvent.run(at, kind, canonicalJson(entry)).lastInsertRowid), entry };
    }),
  );

  return {
    appendLeaf,
    auditTreeSize: () => getSize.get() as number,
    auditRoot: () => frontier().root(),
    auditLeafHash: (index) => getLeafHash.get(index) as Buffer | undefined,
    auditNode: (level, index) => getNode.get(level, index) as Buffer | undefined,
    appendAuditEvent: (kind, at, body) => appendEvent(kind, at, body),
    putCheckpoint(cp) {
      // A size already stored keeps its first checkpoint (another signature over the same root);
      // the same size with another root would be a fork: refused.
      if (insertCheckpoint.run(cp).changes > 0) return;
      const stored = toCheckpoint(bySize.get(cp.size) as CheckpointDbRow | undefined);
      if (stored && !stored.root.equals(cp.root)) throw forkedCheckpoint(cp.size);
    },
    latestCheckpoint: () => toCheckpoint(latest.get() as CheckpointDbRow | undefined),
    getCheckpoint: (size) => toCheckpoint(bySize.get(size) as CheckpointDbRow | undefined),
    checkpointCovering: (size) => toCheckpoint(atOrAfter.get(size) as CheckpointDbRow | undefined),
    listCheckpoints: (beforeSize, limit) =>
      (history.all(beforeSize, limit) as CheckpointDbRow[]).map((r) => toCheckpoint(r)!),
  };
}
