/**
 * The store's typed interface. SQLite is the embedded default; a PostgreSQL backend
 * implements the same interface and passes the same conformance suite.
 *
 * Every method is asynchronous: a networked backend (PostgreSQL) cannot answer synchronously.
 * A failure is a rejected promise, never a synchronous throw. The signatures are spelled out
 * one by one (no mapped type) so an implementer reads exactly what to return.
 *
 * Each area's contract lives in its folder (`<area>/types.ts`, beside its `sqlite.ts` and
 * `pg.ts`); this file composes them into `Store` and re-exports them, so an importer need not
 * know which area a type belongs to.
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
import type { EgressQueueStore, OutboxDecisionStore, OutboxStore } from './outbox/types.js';
import type { EgressLogIntegrator, EgressLogStore } from './egress-log/types.js';
import type { AuditQueryStore, AuditStore } from './audit/types.js';
import type { RetentionStore } from './retention/types.js';
import type { MqttQos2Store } from './mqtt-qos2/types.js';

export type * from './vehicles/types.js';
export type * from './policies/types.js';
export type * from './policy-state/types.js';
export type * from './secrets/types.js';
export type * from './oems/types.js';
export type * from './api-keys/types.js';
export type * from './gbt32960-terminals/types.js';
export type * from './records/types.js';
export type * from './outbox/types.js';
export type * from './egress-log/types.js';
export type * from './audit/types.js';
export type * from './retention/types.js';
export type * from './mqtt-qos2/types.js';
export type * from './oem-feed/types.js';
export type * from './signing-keys/types.js';
export type * from './commands/types.js';
export type * from './command-approvals/types.js';
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
    MqttQos2Store,
    OutboxStore,
    OutboxDecisionStore,
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
   * PostgreSQL only: calls `onRows` whenever any process (this one included) committed outbox
   * rows to this schema (LISTEN/NOTIFY: src/store/pg/outbox-signal.ts), so a process that
   * delivers and does not ingest hears of them at once. A hint that MAY be lost: the caller MUST
   * keep polling.
   */
  watchOutbox?(
    onRows: () => void,
    onError?: (err: unknown, retryInMs: number) => void,
  ): Promise<{ close(): Promise<void> }>;
  counts(): Promise<{
    records: number;
    quarantine: number;
    outboxPending: number;
    outboxDead: number;
    egressLog: number;
  }>;
  close(): Promise<void>;
}
