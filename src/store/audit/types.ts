/**
 * The audit area's contract, shared by both stores (src/store/audit/): the egress log's Merkle
 * tree with its event leaves and signed checkpoints (sqlite.ts, pg.ts), and the regulator's read
 * side of the log (sqlite-queries.ts, pg-queries.ts).
 */
import type { AuditEventBody } from '../../audit/events.js';
import type { EventLeafKind } from '../../audit/leaf.js';
import type { EgressLogRow } from '../egress-log/types.js';

/** A signed checkpoint of the egress log's Merkle tree (src/audit). */
export interface StoredCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  readonly signedAt: number;
  /** The C2SP signed note, exactly as signed. */
  readonly note: string;
}

/** The egress log's Merkle tree: leaves, stored subtree roots, checkpoints (this folder: sqlite.ts, pg.ts). */
export interface AuditStore {
  auditTreeSize(): Promise<number>;
  auditRoot(): Promise<Buffer>;
  auditLeafHash(index: number): Promise<Buffer | undefined>;
  /** Root of the perfect subtree of 2^level leaves starting at leaf index·2^level, if stored. */
  auditNode(level: number, index: number): Promise<Buffer | undefined>;
  /**
   * Appends a non-egress leaf (a re-identification, a consent change, a command, an objection, an
   * erasure) in its own transaction; resolves to its index. The body MUST NOT hold personal data:
   * pseudonyms, ids and digests only, never a VIN (docs/audit.md).
   */
  appendAuditEvent(kind: EventLeafKind, at: number, body: AuditEventBody): Promise<number>;
  putCheckpoint(cp: StoredCheckpoint): Promise<void>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  getCheckpoint(size: number): Promise<StoredCheckpoint | undefined>;
  /** The smallest checkpoint whose size is at least `size`. */
  checkpointCovering(size: number): Promise<StoredCheckpoint | undefined>;
  /** Checkpoints smaller than `beforeSize`, largest (newest) first: the history, a page at a time. */
  listCheckpoints(beforeSize: number, limit: number): Promise<StoredCheckpoint[]>;
}

/** An egress-log row as the regulator sees it: with its leaf index and payload digest. */
export interface EgressEntry extends EgressLogRow {
  readonly leafIndex: number;
  readonly payloadSha256: string | null;
  readonly payloadBytes: number | null;
}

export interface EgressSearch {
  readonly oem?: string;
  /** Pseudonyms to match (a VIN is resolved to these server-side). */
  readonly pseudonyms?: readonly string[];
  readonly from?: number;
  readonly to?: number;
  readonly field?: string;
  readonly country?: string;
  readonly outcome?: string;
  readonly policyHash?: string;
  readonly recordId?: string;
  /** The id an OEM received (what it can name a delivery by). */
  readonly deliveryId?: string;
}

/** One leaf as exported for the verifier: its hash as stored, and the entry it hashes. */
export interface ExportedLeaf {
  readonly index: number;
  readonly leafHash: string;
  readonly entry: Record<string, unknown>;
}

export interface SummaryRow {
  readonly day: string;
  readonly oem: string;
  readonly destinationCountry: string | null;
  readonly field: string;
  readonly records: number;
  readonly bytes: number;
}

/** Read side of the egress log for the regulator API (this folder: sqlite-queries.ts, pg-queries.ts). */
export interface AuditQueryStore {
  searchEgress(filter: EgressSearch, afterSeq: number, limit: number): Promise<EgressEntry[]>;
  egressEntry(seq: number): Promise<EgressEntry | undefined>;
  /** Re-identification: the pseudonyms a VIN's records crossed under. The caller logs it. */
  pseudonymsOfVin(vin: string): Promise<string[]>;
  /** Leaves with index in (afterIndex, before), in order, at most `limit`. */
  exportLeaves(afterIndex: number, before: number, limit: number): Promise<ExportedLeaf[]>;
  /** Delivered records and bytes per day × OEM × destination country × field sent. */
  egressSummary(filter: EgressSearch): Promise<SummaryRow[]>;
}
