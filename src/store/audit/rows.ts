/**
 * What both stores share about the Merkle tree: the checkpoint row and its mapping, the leaf
 * object of an event, the check that a leaf names its own index and kind, the refusal of a
 * forked checkpoint, when a cached frontier may still be built upon, and the filter of the
 * regulator's search (also the summary's and the owner's totals'). The DDL and the
 * statements stay per dialect (sqlite.ts, pg.ts): SQLite appends a leaf at a time under its one
 * writer, PostgreSQL a batch under the 'egress-log' advisory lock.
 */
import type { CompactRange } from '../../audit/compact-range.js';
import { LEAF_VERSION, type CanonicalValue, type LeafKind } from '../../audit/leaf.js';
import type { EgressEntry, EgressSearch, StoredCheckpoint } from './types.js';
import { toLogRow, type LogDbRow } from '../egress-log/rows.js';
import type { Param } from '../sql-filter.js';

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

/**
 * How a dialect asks whether a value is in a list: the one part of the search filter whose SQL
 * differs. SQLite has no array type and walks JSON text with json_each; PostgreSQL binds a
 * text[] and asks JSONB with `?`. Each hook binds its value itself, in the form its SQL reads.
 */
export interface EgressSearchDialect {
  /** `e.pseudonym` is one of `pseudonyms` (none: nothing matches). */
  pseudonymIn(pseudonyms: readonly string[], param: Param): string;
  /** `field` is one of `e.fields_sent`. */
  fieldSent(field: string, param: Param): string;
}

/**
 * The conditions of `searchEgress`, `egressSummary` and `egressTotals` over `egress_log e`, in
 * either dialect. A list, not a clause: each query ANDs it with its own (the keyset, delivered
 * only), bound in text order around it.
 */
export function egressSearchFilter(f: EgressSearch, param: Param, dialect: EgressSearchDialect): string[] {
  const where: string[] = [];
  if (f.oem !== undefined) where.push(`e.oem = ${param(f.oem)}`);
  if (f.pseudonyms !== undefined) where.push(dialect.pseudonymIn(f.pseudonyms, param));
  if (f.from !== undefined) where.push(`e.at >= ${param(f.from)}`);
  if (f.to !== undefined) where.push(`e.at < ${param(f.to)}`);
  if (f.field !== undefined) where.push(dialect.fieldSent(f.field, param));
  if (f.country !== undefined) where.push(`e.destination_country = ${param(f.country)}`);
  if (f.outcome !== undefined) where.push(`e.outcome = ${param(f.outcome)}`);
  if (f.policyHash !== undefined) where.push(`e.policy_hash = ${param(f.policyHash)}`);
  if (f.recordId !== undefined) where.push(`e.record_id = ${param(f.recordId)}`);
  if (f.deliveryId !== undefined) where.push(`e.delivery_id = ${param(f.deliveryId)}`);
  return where;
}
