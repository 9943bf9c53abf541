/**
 * The egress log area's contract, shared by both stores (src/store/egress-log/{sqlite,pg}.ts):
 * every delivery, failed attempt, dead letter and block, append-only, each with its Merkle leaf
 * (../audit/). Outcomes are settled with their outbox rows (../outbox/types.ts `settleOutbox`).
 */

/** 'blocked': a send-time check (consent, destination country) stopped the delivery; nothing was sent. */
export type EgressOutcome = 'delivered' | 'failed' | 'dead-lettered' | 'blocked';

/** The leaf's `payloadSha256` and `payloadBytes`: SHA-256 (hex) and UTF-8 length of a body; null when it is unknown. */
export interface PayloadDigest {
  readonly payloadSha256: string | null;
  readonly payloadBytes: number | null;
}

export interface EgressLogEntry {
  readonly at: number;
  readonly oem: string;
  /** Host (and port) of the OEM endpoint. */
  readonly destination: string;
  /** The IP actually connected to, and its country (ISO 3166 alpha-2), when known. */
  readonly destinationIp: string | null;
  readonly destinationCountry: string | null;
  readonly recordId: string;
  /**
   * The id the OEM saw for this delivery (column `delivery_id`): how an OEM's id maps back to the
   * record, in the country. NOT part of the Merkle leaf (the leaf's `payloadSha256` covers the
   * body, which carries it). Absent on rows logged before delivery ids existed.
   */
  readonly deliveryId?: string | null;
  readonly pseudonym: string;
  readonly purpose: string;
  readonly policyHash: string;
  readonly fieldsSent: readonly string[];
  readonly fieldsDropped: readonly string[];
  readonly outcome: EgressOutcome;
  readonly attempt: number;
  readonly httpStatus: number | null;
  readonly error: string | null;
  /**
   * The trace of this attempt (tracing on and the record sampled; column `trace_id`), so an
   * operator can go from a log row to its trace. Absent or null: not traced. NOT part of the
   * Merkle leaf (audit/leaf.ts): the leaf format is a contract with verifiers.
   */
  readonly traceId?: string | null;
  /**
   * The digest of the body this outcome covers, made by whoever held the body when it was sent
   * (the delivery worker, from the row it POSTed). It MUST be of exactly the bytes that crossed
   * (or would have: a blocked or dead-lettered row's stored body), as `payloadDigest` computes it.
   * Given, the store logs it as is and MUST NOT read the outbox row's body again; absent (a caller
   * without the body in hand), the store hashes the row's body as stored. Not a column of its
   * own: it becomes the entry's `payload_sha256` and `payload_bytes` (and the leaf's).
   */
  readonly payload?: PayloadDigest;
}

export interface EgressLogRow extends EgressLogEntry {
  readonly seq: number;
  readonly deliveryId: string | null;
  readonly traceId: string | null;
}

/**
 * Batched integration of the egress log (docs/audit.md "Sequencing"): outcomes are durable when
 * settled; the integrator gives them their seq and leaf index later, in batches. SQLite
 * integrates inside the settle transaction itself (one writer, nothing to wait for), so there
 * nothing is ever staged and a round integrates 0.
 */
export interface EgressLogIntegrator {
  /**
   * One round: up to `max` staged entries into the log and the tree. `wait`: wait for another
   * instance's round rather than skip. `leader`: this call held the log's lock.
   */
  integrateEgressLog(opts?: {
    max?: number;
    wait?: boolean;
  }): Promise<{ integrated: number; oldestStagedAt: number | null; leader: boolean }>;
  /** Resolves once every entry staged before the call is in the log. */
  catchUpEgressLog(): Promise<void>;
  /** Entries settled but not yet in the log, and when the oldest of them was settled. */
  egressLogStaged(): Promise<{ staged: number; oldestStagedAt: number | null }>;
}

export interface EgressLogStore {
  /** Outcome and its egress-log row, in one transaction. */
  recordDelivery(outboxId: number, entry: EgressLogEntry): Promise<void>;
  recordFailedAttempt(outboxId: number, entry: EgressLogEntry, nextAttemptAt: number): Promise<void>;
  recordDeadLetter(outboxId: number, entry: EgressLogEntry): Promise<void>;
  listEgressLog(filter?: {
    recordId?: string;
    deliveryId?: string;
    oem?: string;
    limit?: number;
  }): Promise<EgressLogRow[]>;
}
