/**
 * The store's typed interface. SQLite is the embedded default; a PostgreSQL backend (issue 7)
 * implements the same interface and passes the same conformance suite.
 */
import type { CanonicalRecord, IngestChannel, Projection } from '../record.js';

export interface VehicleRow {
  readonly vin: string;
  readonly oem: string;
  /** SHA-256 over salt ‖ secret; the secret itself is never stored. */
  readonly secretHash: Buffer;
  readonly secretSalt: Buffer;
  readonly createdAt: number;
}

export interface QuarantineItem {
  readonly id: string;
  readonly vin: string;
  readonly channel: IngestChannel;
  readonly receivedAt: number;
  readonly reason: string;
  readonly raw: Buffer;
}

/** One unit of ingest: a decoded record with its approved projections, or a quarantined payload. */
export type IngestItem =
  | { readonly kind: 'record'; readonly record: CanonicalRecord; readonly raw: Buffer; readonly projections: readonly Projection[] }
  | { readonly kind: 'quarantine'; readonly item: QuarantineItem };

export interface OutboxRow {
  readonly id: number;
  readonly recordId: string;
  readonly oem: string;
  readonly purpose: string;
  readonly policyHash: string;
  readonly pseudonym: string;
  readonly fieldsSent: readonly string[];
  readonly fieldsDropped: readonly string[];
  /** The exact JSON body that will be POSTed. */
  readonly body: string;
  readonly attempts: number;
}

export type EgressOutcome = 'delivered' | 'failed' | 'dead-lettered';

export interface EgressLogEntry {
  readonly at: number;
  readonly oem: string;
  /** Host (and port) of the OEM endpoint. */
  readonly destination: string;
  /** The IP actually connected to, and its country (ISO 3166 alpha-2), when known. */
  readonly destinationIp: string | null;
  readonly destinationCountry: string | null;
  readonly recordId: string;
  readonly pseudonym: string;
  readonly purpose: string;
  readonly policyHash: string;
  readonly fieldsSent: readonly string[];
  readonly fieldsDropped: readonly string[];
  readonly outcome: EgressOutcome;
  readonly attempt: number;
  readonly httpStatus: number | null;
  readonly error: string | null;
}

export interface EgressLogRow extends EgressLogEntry {
  readonly seq: number;
}

export interface StoredRecord {
  readonly record: CanonicalRecord;
  readonly raw: Buffer;
}

export interface VehicleStore {
  registerVehicle(v: { vin: string; oem: string; secretHash: Buffer; secretSalt: Buffer; replace?: boolean }): void;
  getVehicle(vin: string): VehicleRow | undefined;
  listVehicles(): VehicleRow[];
}

export interface RecordStore {
  getRecord(id: string): StoredRecord | undefined;
  listQuarantine(limit?: number): QuarantineItem[];
}

export interface OutboxStore {
  /**
   * Leases up to `limit` outbox rows that are due, for `leaseMs`. A leased row is not handed
   * out again until its lease expires, so a crash mid-delivery only delays it.
   */
  leaseDueOutbox(now: number, limit: number, leaseMs: number): OutboxRow[];
  /** Soonest time a pending row becomes due, or undefined when none is pending. */
  nextDueAt(): number | undefined;
}

export interface EgressLogStore {
  /** Outcome and its egress-log row, in one transaction. */
  recordDelivery(outboxId: number, entry: EgressLogEntry): void;
  recordFailedAttempt(outboxId: number, entry: EgressLogEntry, nextAttemptAt: number): void;
  recordDeadLetter(outboxId: number, entry: EgressLogEntry): void;
  listEgressLog(filter?: { recordId?: string; oem?: string; limit?: number }): EgressLogRow[];
}

/** Key material kept locally (pseudonymization, signing). Created by the caller once. */
export interface SecretStore {
  getSecret(name: string): Buffer | undefined;
  putSecretIfAbsent(name: string, value: Buffer): Buffer;
}

export interface Store extends VehicleStore, RecordStore, OutboxStore, EgressLogStore, SecretStore {
  /**
   * Commits a batch of ingest items in ONE transaction: each record with its route points,
   * account data and outbox rows, or its quarantine row.
   * MUST return only after the transaction is durable on disk; callers acknowledge to the car
   * (PUBACK, HTTP 2xx) only after it returns. If it throws, nothing of the batch was written.
   */
  commitIngest(items: readonly IngestItem[]): void;
  counts(): { records: number; quarantine: number; outboxPending: number; outboxDead: number; egressLog: number };
  close(): void;
}
