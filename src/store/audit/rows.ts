/**
 * What both stores share about the Merkle tree: the checkpoint row and its mapping, the leaf
 * object of an event, the check that a leaf names its own index and kind, the refusal of a
 * forked checkpoint, and when a cached frontier may still be built upon. The DDL and the
 * statements stay per dialect (sqlite.ts, pg.ts): SQLite appends a leaf at a time under its one
 * writer, PostgreSQL a batch under the 'egress-log' advisory lock.
 */
import type { CompactRange } from '../../audit/compact-range.js';
import { LEAF_VERSION, type CanonicalValue, type LeafKind } from '../../audit/leaf.js';
import type { EgressEntry, StoredCheckpoint } from './types.js';
import { toLogRow, type LogDbRow } from '../egress-log/rows.js';

export const CHECKPOINT_COLUMNS = 'size, root, signed_at, note';

/** The `audit_checkpoints` table's row, as both drivers return it. */
export interface CheckpointDbRow {
  size: number;
  root: Buffer;
  signed_at: number;
  note: string;
}

export const toCheckpoint = (r: CheckpointDbRow | undefined): StoredCheckpoint | undefined =>
  r && { size: r.size, root: r.root, signedAt: r.signed_at, note: r.note };

/** The same size with another root would be a fork: refused. */
export const forkedCheckpoint = (size: number): Error =>
  new Error(`audit: a checkpoint of size ${size} with another root is already stored`);

/** The leaf object of an event (what `appendAuditEvent` hashes and stores as the event's body). */
export const eventEntry = (
  body: Readonly<Record<string, CanonicalValue>>,
  kind: LeafKind,
  index: number,
  at: number,
): Record<string, CanonicalValue> => ({ ...body, v: LEAF_VERSION, kind, index, at });

/** A leaf object MUST carry the index and kind it is appended as. */
export function checkLeaf(entry: Record<string, CanonicalValue>, index: number, kind: LeafKind): void {
  if (entry.index !== index || entry.kind !== kind)
    throw new Error(`leaf for index ${index} says index ${String(entry.index)}, kind ${String(entry.kind)}`);
}

/** The frontier of the tree as last built by this process, with the hash of its last leaf. */
export interface CachedFrontier {
  readonly tree: CompactRange;
  readonly lastHash: Buffer | undefined;
}

/**
 * The cache is trusted only while the stored tree's size AND last leaf hash match it: a
 * rolled-back append, or leaves another connection or instance appended, are reloaded, never
 * built upon.
 */
export const stillCurrent = (
  c: CachedFrontier | undefined,
  size: number,
  lastHash: Buffer | undefined,
): c is CachedFrontier =>
  c !== undefined && c.tree.size === size && (lastHash === undefined || (c.lastHash?.equals(lastHash) ?? false));

/** An egress-log row with its leaf index and payload digest, as the regulator's queries read it. */
export type EntryDbRow = LogDbRow & { leaf_index: number };

export const toEgressEntry = (r: EntryDbRow): EgressEntry => ({
  ...toLogRow(r),
  leafIndex: r.leaf_index,
  payloadSha256: r.payload_sha256,
  payloadBytes: r.payload_bytes,
});
