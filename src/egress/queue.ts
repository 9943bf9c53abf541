/**
 * The egress queue, one interface with two backends: the local durable queue (the outbox
 * table, local-queue.ts) and Apache Kafka (kafka-queue.ts). Both pass test/egress/conformance.
 *
 * Contract for every backend:
 *  - at-least-once: a row committed to the outbox MUST reach a settled outcome (delivered,
 *    dead-lettered, blocked); a crash at any point MUST NOT lose it, and MAY deliver it again
 *    with the same record id (the Idempotency-Key);
 *  - a message MUST NOT be let go of (Kafka offset committed, lease forgotten) before its
 *    outcome and egress-log row are durable in the store;
 *  - per (OEM, vehicle pseudonym), rows are delivered in outbox order, also across retries.
 */
/**
 * How long a lease of outbox rows lasts: longer than any delivery (bounded by the request timeout)
 * plus its settle, so only a crashed instance's rows become due again.
 */
export const outboxLeaseMs = (cfg: { readonly leaseMs: number; readonly requestTimeoutMs: number }): number =>
  Math.max(cfg.leaseMs, cfg.requestTimeoutMs * 3);

export interface EgressQueue {
  readonly kind: 'local' | 'kafka';
  /** New outbox rows were committed: look now rather than at the next poll. */
  wake(): void;
  /** Messages being delivered right now. */
  readonly inFlight: number;
  /**
   * An OEM was added at run time. Kafka: its topics are created and its consumer group joined
   * before this resolves, so rows for it can be published at once. The local queue needs nothing.
   */
  addOem(oem: string): Promise<void>;
  /** Stops taking new messages and waits (bounded) for those in flight. */
  close(): Promise<void>;
}
