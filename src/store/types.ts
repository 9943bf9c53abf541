/**
 * The store's typed interface. SQLite is the embedded default; a PostgreSQL backend
 * implements the same interface and passes the same conformance suite.
 *
 * Every method is asynchronous: a networked backend (PostgreSQL) cannot answer synchronously.
 * A failure is a rejected promise, never a synchronous throw. The signatures are spelled out
 * one by one (no mapped type) so an implementer reads exactly what to return.
 */
import type { Gbt32960TerminalStore } from './gbt32960-terminals/types.js';
import type { PolicyHistoryStore, PolicyVersionStore } from './policies/types.js';
import type { CommandStore } from './commands/types.js';
import type { CommandApprovalStore } from './command-approvals/types.js';
import type { OemFeedStore } from './oem-feed/types.js';
import type { SigningKeyStore } from './signing-keys/types.js';
import type { ConsentRegistryStore, ConsentStore } from './consent/types.js';
import type { ObjectionStore } from './objections/types.js';
import type { ErasureStore } from './erasure/types.js';
import type { OwnerReportStore } from './owner-report/types.js';
import type { OwnerBindingStore } from './owner-bindings/types.js';
import type { AuditEventQueryStore, IncidentStore, InventoryStore } from './workbench/types.js';
import type { VehicleStore } from './vehicles/types.js';
import type { PolicyStateStore } from './policy-state/types.js';
import type { SecretStore } from './secrets/types.js';
import type { OemRegistryStore } from './oems/types.js';
import type { ApiKeyStore } from './api-keys/types.js';
import type { IngestItem, RecordStore } from './records/types.js';
import type { EgressQueueStore, OutboxStore } from './outbox/types.js';
import type { AuditQueryStore, AuditStore } from './audit/types.js';
import type { RetentionStore } from './retention/types.js';

export type * from './vehicles/types.js';
export type * from './policy-state/types.js';
export type * from './secrets/types.js';
export type * from './oems/types.js';
export type * from './api-keys/types.js';
export type * from './gbt32960-terminals/types.js';
export type * from './records/types.js';
export type * from './outbox/types.js';
export type * from './audit/types.js';
export type * from './retention/types.js';

/** 'blocked': a send-time check (consent, destination country) stopped the delivery; nothing was sent. */
export type EgressOutcome = 'delivered' | 'failed' | 'dead-lettered' | 'blocked';

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

export type { PolicyActivation, PolicyHistoryStore, PolicyVersionRow, PolicyVersionStore } from './policies/types.js';
export type * from './oem-feed/types.js';
export type * from './signing-keys/types.js';
export type * from './commands/types.js';
export type * from './command-approvals/types.js';
export type * from './owner-types.js';
export type * from './consent/types.js';
export type * from './objections/types.js';
export type * from './erasure/types.js';
export type * from './owner-report/types.js';
export type * from './owner-bindings/types.js';
export type * from './workbench/types.js';

export interface Store
  extends
    VehicleStore,
    PolicyStateStore,
    Gbt32960TerminalStore,
    RecordStore,
    OutboxStore,
    EgressQueueStore,
    EgressLogStore,
    EgressLogIntegrator,
    SecretStore,
    ConsentStore,
    PolicyHistoryStore,
    PolicyVersionStore,
    OemRegistryStore,
    AuditStore,
    AuditQueryStore,
    ApiKeyStore,
    OwnerBindingStore,
    OemFeedStore,
    SigningKeyStore,
    CommandStore,
    CommandApprovalStore,
    ConsentRegistryStore,
    ObjectionStore,
    ErasureStore,
    OwnerReportStore,
    RetentionStore,
    InventoryStore,
    IncidentStore,
    AuditEventQueryStore {
  /**
   * Commits a batch of ingest items in ONE transaction: each record with its route points,
   * account data and outbox rows, or its quarantine row.
   * MUST resolve only after the transaction is durable on disk; callers acknowledge to the car
   * (PUBACK, HTTP 2xx) only after it resolves. If it rejects, nothing of the batch was written.
   */
  commitIngest(items: readonly IngestItem[]): Promise<void>;
  /**
   * MQTT QoS 2 packet ids of a VIN written by commitIngest (`mqttQos2`) and not yet released:
   * a PUBLISH with one of them is a duplicate [MQTT-4.3.3-2].
   */
  pendingMqttQos2(vin: string): Promise<number[]>;
  /** Forgets these packet ids of the VIN (PUBREL, or a clean session). */
  releaseMqttQos2(vin: string, packetIds: readonly number[]): Promise<void>;
  /**
   * The record (or quarantine row) last committed for this broker packet id on this gateway
   * session (`brokerDelivery` of commitIngest), with its digest; undefined when none.
   */
  brokerDelivery(session: string, packetId: number): Promise<{ recordId: string; digest: string } | undefined>;
  counts(): Promise<{
    records: number;
    quarantine: number;
    outboxPending: number;
    outboxDead: number;
    egressLog: number;
  }>;
  close(): Promise<void>;
}
