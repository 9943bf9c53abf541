/**
 * The egress log's Merkle tree in PostgreSQL (RFC 9162 §2.1), the same tables as SQLite's
 * (./sqlite.ts; the contract: ./types.ts): leaf hashes, every perfect-subtree root, other leaf
 * kinds, signed checkpoints; append-only, enforced by triggers (TRUNCATE too).
 *
 * Several instances append to one tree. Every append takes the transaction-level advisory lock
 * 'egress-log' first and reads the tree size under it, so leaf indexes (and egress_log seq,
 * audit_events id) are consecutive with no gap or duplicate whoever appends; the lock is held
 * until the appending transaction commits or rolls back.
 *
 * Durability contract: `appendLeaves` MUST be called inside the transaction that writes the
 * entries it hashes; the leaves, their nodes and the entries commit or roll back together.
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db, Sql, Tx } from '../pg/db.js';
import { CompactRange } from '../../audit/compact-range.js';
import {
  canonicalJson,
  entryLeafHash,
  type CanonicalValue,
  type EventLeafKind,
  type LeafKind,
} from '../../audit/leaf.js';
import { frontierFrom, frontierSubtrees } from './frontier.js';
import type { AuditEventBody } from '../../audit/events.js';
import type { AuditStore } from './types.js';
import {
  CHECKPOINT_COLUMNS,
  checkLeaf,
  eventEntry,
  forkedCheckpoint,
  stillCurrent,
  toCheckpoint,
  type CachedFrontier,
  type CheckpointDbRow,
} from './rows.js';

const appendOnly = (table: string) => `
  CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION append_only();
  CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION append_only();`;

/** The trigger function behind every append-only table (egress_log first, in 0004). */
export const APPEND_ONLY_FUNCTION = `
  CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;`;
export const appendOnlyTriggers = appendOnly;

export const AUDIT_MIGRATIONS: PgMigration[] = [
  {
    id: '0007-egress-merkle',
    sql: `
  -- What was sent, without sending it again: SHA-256 (hex) and length of the exact body.
  ALTER TABLE egress_log ADD COLUMN payload_sha256 TEXT;
  ALTER TABLE egress_log ADD COLUMN payload_bytes INTEGER;
  -- The row's leaf in the tree. Always set: no PostgreSQL store has rows from before this migration.
  ALTER TABLE egress_log ADD COLUMN leaf_index BIGINT;
  CREATE INDEX egress_log_at ON egress_log (at);
  CREATE INDEX egress_log_pseudonym ON egress_log (pseudonym);

  -- Leaf i of the tree: which row it hashes (kind 'egress' → egress_log.seq, else audit_events.id).
  CREATE TABLE audit_leaves (
    leaf_index BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,
    ref        BIGINT NOT NULL,
    leaf_hash  BYTEA NOT NULL
  );
  -- Root of the perfect subtree of 2^level leaves starting at leaf idx·2^level (level >= 1).
  CREATE TABLE audit_nodes (
    level INTEGER NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
  );
  -- Leaves of other kinds (e.g. 'access': a regulator re-identified a VIN); body = the leaf, canonical JSON, as hashed.
  CREATE TABLE audit_events (
    id   BIGINT PRIMARY KEY,
    at   BIGINT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
  );
  CREATE TABLE audit_checkpoints (
    size      BIGINT PRIMARY KEY,
    root      BYTEA NOT NULL,
    signed_at BIGINT NOT NULL,
    note      TEXT NOT NULL
  );
  ${appendOnly('audit_leaves')}${appendOnly('audit_nodes')}${appendOnly('audit_events')}${appendOnly('audit_checkpoints')}`,
  },
];

/** What a store area that writes entries needs from the tree. */
export interface PgTreeWriter {
  /**
   * Inside the caller's transaction: takes the 'egress-log' lock, then appends one leaf per
   * entry that `insertRows(firstIndex)` writes (its own rows) and returns, in order; each leaf
   * object MUST carry its `index` (firstIndex, firstIndex + 1, …). Returns firstIndex.
   */
  appendLeaves(
    t: Tx,
    kind: LeafKind,
    insertRows: (firstIndex: number) => Promise<{ ref: number; entry: Record<string, CanonicalValue> }[]>,
  ): Promise<number>;
  /**
   * Inside the caller's transaction: appends one event leaf (an audit_events row and its leaf),
   * as `appendAuditEvent` does in its own. For a state change that MUST commit with its leaf
   * (a downlink command step): the change and the leaf commit or roll back together. Takes the
   * 'egress-log' lock, held until the caller's transaction ends. Resolves to the leaf index.
   */
  appendEventIn(t: Tx, kind: EventLeafKind, at: number, body: AuditEventBody): Promise<number>;
  /** What runs under the lock before each event leaf (the egress log integrates its staged outcomes). */
  setBeforeEvent(f: (t: Tx) => Promise<void>): void;
}

export function pgAudit(db: Db): AuditStore & PgTreeWriter {
  // The frontier is cached (rows.ts `stillCurrent` says when it is trusted): a rolled-back
  // append of ours, or leaves appended by another instance, are reloaded, never built upon.
  let cached: CachedFrontier | undefined;

  const head = async (q: Sql): Promise<{ size: number; lastHash: Buffer | undefined }> => {
    const [r] = await q.query<{ leaf_index: number; leaf_hash: Buffer }>(
      `SELECT leaf_index, leaf_hash FROM audit_leaves ORDER BY leaf_index DESC LIMIT 1`,
    );
    return r ? { size: r.leaf_index + 1, lastHash: r.leaf_hash } : { size: 0, lastHash: undefined };
  };
  const loadFrontier = async (q: Sql, size: number): Promise<CompactRange> => {
    const parts = frontierSubtrees(size);
    const leaf = parts.find((p) => p.level === 0);
    const rows = await q.query<{ level: number; idx: number; hash: Buffer }>(
      `
      SELECT level, idx, hash FROM audit_nodes WHERE (level, idx) IN (SELECT * FROM unnest($1::int[], $2::bigint[]))
      UNION ALL SELECT 0, leaf_index, leaf_hash FROM audit_leaves WHERE leaf_index = $3`,
      [parts.map((p) => p.level), parts.map((p) => p.index), leaf ? leaf.index : -1],
    );
    const byKey = new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hash]));
    return frontierFrom(size, (level, index) => byKey.get(`${level}/${index}`));
  };
  const frontier = async (q: Sql): Promise<CompactRange> => {
    const h = await head(q);
    const c = cached;
    if (stillCurrent(c, h.size, h.lastHash)) return c.tree;
    const tree = await loadFrontier(q, h.size);
    cached = { tree, lastHash: h.lastHash };
    return tree;
  };

  const appendLeaves: PgTreeWriter['appendLeaves'] = async (t, kind, insertRows) => {
    await t.lock('egress-log');
    // A copy: readers of the cache never see leaves that are not committed.
    const tree = CompactRange.fromJSON((await frontier(t)).toJSON());
    const first = tree.size;
    const rows = await insertRows(first);
    const leaves: unknown[][] = [[], [], [], []];
    const nodes: unknown[][] = [[], [], []];
    let lastHash: Buffer | undefined;
    rows.forEach(({ ref, entry }, i) => {
      const index = first + i;
      checkLeaf(entry, index, kind);
      lastHash = entryLeafHash(entry);
      leaves[0]!.push(index);
      leaves[1]!.push(kind);
      leaves[2]!.push(ref);
      leaves[3]!.push(lastHash);
      tree.append(lastHash, (level, idx, node) => {
        nodes[0]!.push(level);
        nodes[1]!.push(idx);
        nodes[2]!.push(node);
      });
    });
    if (rows.length === 0) return first;
    await t.query(
      `INSERT INTO audit_leaves (leaf_index, kind, ref, leaf_hash) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bytea[])`,
      leaves,
    );
    if (nodes[0]!.length > 0)
      await t.query(
        `INSERT INTO audit_nodes (level, idx, hash) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[])`,
        nodes,
      );
    t.onRollback(() => {
      cached = undefined;
    });
    cached = { tree, lastHash };
    return first;
  };

  // Run under the lock before an event's leaf (../egress-log/pg.ts: staged outcomes first), so an
  // event follows every outcome settled before it, as it did when outcomes were appended at once.
  let beforeEvent: ((t: Tx) => Promise<void>) | undefined;
  const appendEventIn: PgTreeWriter['appendEventIn'] = async (t, kind, at, body) => {
    await t.lock('egress-log');
    await beforeEvent?.(t);
    return appendLeaves(t, kind, async (index) => {
      const entry = eventEntry(body, kind, index, at);
      // Under the 'egress-log' lock, like the leaf index: ids without gaps, in leaf order.
      const [row] = await t.query<{ id: number }>(
        `INSERT INTO audit_events (id, at, kind, body)
      SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3 FROM audit_events RETURNING id`,
        [at, kind, canonicalJson(entry)],
      );
      return [{ ref: row!.id, entry }];
    });
  };

  const first = (rows: CheckpointDbRow[]) => toCheckpoint(rows[0]);

  return {
    appendLeaves,
    setBeforeEvent: (f) => {
      beforeEvent = f;
    },
    auditTreeSize: async () => (await head(db)).size,
    auditRoot: async () => (await frontier(db)).root(),
    auditLeafHash: async (index) =>
      (await db.query<{ leaf_hash: Buffer }>(`SELECT leaf_hash FROM audit_leaves WHERE leaf_index = $1`, [index]))[0]
        ?.leaf_hash,
    auditNode: async (level, index) =>
      (
        await db.query<{ hash: Buffer }>(`SELECT hash FROM audit_nodes WHERE level = $1 AND idx = $2`, [level, index])
      )[0]?.hash,
    appendEventIn,
    appendAuditEvent: (kind, at, body) => db.tx((t) => appendEventIn(t, kind, at, body)),
    async putCheckpoint(cp) {
      // Several instances sign the same size: the first stored stays (each is a valid signature
      // over the same root). The same size with another root would be a fork: refused.
      const inserted = await db.query(
        `INSERT INTO audit_checkpoints (${CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING RETURNING size`,
        [cp.size, cp.root, cp.signedAt, cp.note],
      );
      if (inserted.length > 0) return;
      const stored = first(
        await db.query<CheckpointDbRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE size = $1`, [
          cp.size,
        ]),
      );
      if (stored && !stored.root.equals(cp.root)) throw forkedCheckpoint(cp.size);
    },
    latestCheckpoint: async () =>
      first(
        await db.query<CheckpointDbRow>(
          `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY size DESC LIMIT 1`,
        ),
      ),
    getCheckpoint: async (size) =>
      first(
        await db.query<CheckpointDbRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE size = $1`, [size]),
      ),
    checkpointCovering: async (size) =>
      first(
        await db.query<CheckpointDbRow>(
          `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE size >= $1 ORDER BY size LIMIT 1`,
          [size],
        ),
      ),
    listCheckpoints: async (beforeSize, limit) =>
      (
        await db.query<CheckpointDbRow>(
          `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE size < $1 ORDER BY size DESC LIMIT $2`,
          [beforeSize, limit],
        )
      ).map((r) => toCheckpoint(r)!),
  };
}
