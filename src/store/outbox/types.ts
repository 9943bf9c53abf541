/**
 * The outbox area's contract, shared by both stores (src/store/outbox/{sqlite,pg}.ts): the
 * approved projections waiting to cross, how the egress queues lease them, and the one
 * transaction that settles a batch of outcomes with their egress-log rows.
 */
import type { EgressLogEntry } from '../egress-log/types.js';
import type { ProjectionDecision } from '../../record.js';

export interface OutboxRow {
  readonly id: number;
  /** In the country only. */
  readonly recordId: string;
  /**
   * What crosses instead of the record id (body, `Idempotency-Key`, `Shekara-Delivery-Id`),
   * made once with the projection (src/policy/delivery-id.ts). Delivery paths MUST carry this
   * value and MUST NOT derive one. Rows written before the column existed carry their record id.
   */
  readonly deliveryId: string;
  readonly oem: string;
  readonly purpose: string;
  readonly policyHash: string;
  readonly pseudonym: string;
  readonly fieldsSent: readonly string[];
  readonly fieldsDropped: readonly string[];
  /** The exact JSON body that will be POSTed. */
  readonly body: string;
  readonly attempts: number;
  /** W3C traceparent stored with the row (column `trace_parent`), null when the record was not traced. */
  readonly traceParent?: string | null;
}

/**
 * pending → (Kafka mode: published →) delivered | dead | blocked.
 * For an OEM that pulls (delivery: pull): pending → pull (parked, waits in its feed) → delivered | blocked.
 */
export type OutboxStatus = 'pending' | 'published' | 'delivered' | 'dead' | 'blocked' | 'pull';

/** One delivery outcome to make durable, with its egress-log row (none for 'deferred'). */
export type EgressSettlement =
  | { readonly kind: 'delivered' | 'dead' | 'blocked'; readonly outboxId: number; readonly entry: EgressLogEntry }
  | {
      readonly kind: 'failed';
      readonly outboxId: number;
      readonly entry: EgressLogEntry;
      readonly nextAttemptAt: number;
    }
  /** Not attempted (circuit breaker open): due again at `until`, no attempt counted, nothing logged. */
  | { readonly kind: 'deferred'; readonly outboxId: number; readonly until: number }
  /**
   * Not sent: the OEM pulls (delivery: pull). The row leaves the push queue (status 'pull') and
   * takes the next position of the pull feed; nothing crossed, so nothing is logged.
   */
  | { readonly kind: 'parked'; readonly outboxId: number };

export interface OutboxStore {
  /**
   * Leases the due rows of up to `limit` vehicles, for `leaseMs`: each vehicle's (OEM, pseudonym)
   * head of queue when it is due, and behind it up to `perVehicle` - 1 (default 0) of the
   * vehicle's next pending rows, consecutive and in id order, whatever their own next attempt
   * time (they cannot go before the head anyway), stopping before one already leased. Rows come
   * vehicle by vehicle (heads in lease order: soonest due first, then id; each chain in id order).
   * A leased row is not handed out again until its lease expires, so a crash mid-delivery only
   * delays it. When more than `limit` vehicles are due, which ones is the backend's choice
   * (PostgreSQL: the soonest due; SQLite: those whose heads come first in id order, found with no
   * index keyed by vehicle: ./heads.ts); neither MAY leave a due vehicle out because of rows
   * that are not due (however many are pending before it). A chain MAY stop short of `perVehicle` rows (the
   * rest come with the next call, behind it), never skip a row of its vehicle.
   */
  leaseDueOutbox(now: number, limit: number, leaseMs: number, perVehicle?: number): Promise<OutboxRow[]>;
  /** Soonest time a pending row becomes due, or undefined when none is pending. */
  nextDueAt(): Promise<number | undefined>;
  /**
   * The rows `leaseDueOutbox` would lease, without leasing them: for a single-process queue that
   * holds its leases in memory. A crash forgets such leases, so the rows are due again at once.
   */
  dueOutboxHeads(now: number, limit: number, perVehicle?: number): Promise<OutboxRow[]>;
}

/** The operator's read of why a projection left as it did (the decision is kept, never sent). */
export interface OutboxDecisionStore {
  /**
   * The policy decision stored with the outbox row of (record, OEM, purpose): from its shape, or
   * from the row itself for rows written before shapes (migration 0140). null when the
   * projection carried none; undefined when there is no such row.
   */
  projectionDecision(recordId: string, oem: string, purpose: string): Promise<ProjectionDecision | null | undefined>;
}

export interface OutboxBacklog {
  readonly oem: string;
  readonly depth: number;
  readonly oldestRecordId: string;
}

/** What the egress queues (src/egress) need beyond OutboxStore. */
export interface EgressQueueStore {
  /** Kafka relay: leases up to `limit` pending rows in id order, whatever their next_attempt_at. */
  leaseUnpublished(now: number, limit: number, leaseMs: number): Promise<OutboxRow[]>;
  /** Kafka relay: MUST be called only after the broker acknowledged (acks=all) every row named. */
  markPublished(ids: readonly number[]): Promise<void>;
  outboxState(id: number): Promise<{ readonly status: OutboxStatus; readonly attempts: number } | undefined>;
  /** outboxState of many rows in one read (a Kafka consumer's fetched batch); ids not stored are absent. */
  outboxStates(
    ids: readonly number[],
  ): Promise<Map<number, { readonly status: OutboxStatus; readonly attempts: number }>>;
  /** Rows not yet handed on (status pending): the measure of a saturated queue. */
  outboxBacklog(): Promise<number>;
  /**
   * Per OEM, the rows not yet settled (pending, or published to Kafka and not yet delivered):
   * how many, and the record id (a UUIDv7: it tells when the record arrived) of the oldest.
   * OEMs with none are absent.
   */
  outboxBacklogByOem(): Promise<readonly OutboxBacklog[]>;
  /**
   * Makes every outcome and its egress-log row durable in ONE transaction (all or nothing).
   * MUST resolve only after the commit is on disk: callers commit Kafka offsets or forget a
   * lease only after it resolves. If it rejects, nothing of the batch was written.
   * A delivered, failed, dead or blocked outcome for a push row already delivered or dead (a
   * second consumer's, a redelivered message's, another instance's) MUST change nothing and
   * MUST NOT be logged, even when two settle it at once: no record enters the egress log twice.
   * A row blocked meanwhile still logs the delivery that was on the wire; rows of the
   * pull feed keep their own rules. recordDelivery & co. follow the same rule.
   */
  settleOutbox(items: readonly EgressSettlement[]): Promise<void>;
}
