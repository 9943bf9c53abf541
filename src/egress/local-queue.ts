/**
 * The local durable queue: the outbox table in the store IS the queue (embedded default).
 * Workers take due rows — only the head of each vehicle's queue, so order per vehicle holds
 * across retries — and settle each outcome in the store.
 *
 * On a store only this process uses (SQLite) leases are held in memory: a lease written to the
 * store would cost an fsync per delivery. A crash mid-delivery forgets the lease, so the row is
 * due again at restart (at-least-once, same record id). On a store several instances share
 * (`sharedOutbox`: PostgreSQL) memory leases would let two instances send the same row at once,
 * so rows are leased in the store instead (FOR UPDATE SKIP LOCKED, the lease in the row); a
 * crashed instance's rows are due again when their lease ends.
 */
import type { OutboxRow, Store } from '../store/index.js';
import type { Logger } from '../log.js';
import type { DeliveryWorker } from './worker.js';
import type { Settler } from './settler.js';
import type { EgressQueue } from './queue.js';
import { ATTR, contextOf, disabledTelemetry, logFields, type Telemetry } from '../telemetry/index.js';
import { failSpan, logOutcome, startConsumeSpan } from './spans.js';

export interface LocalQueueConfig {
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly requestTimeoutMs: number;
}

export function startLocalQueue(
  cfg: LocalQueueConfig,
  deps: {
    store: Pick<Store, 'dueOutboxHeads' | 'leaseDueOutbox' | 'nextDueAt'>;
    worker: DeliveryWorker;
    settler: Settler;
    log: Logger;
    now: () => number;
    telemetry?: Telemetry;
    /** Other instances share this outbox: lease rows in the store, not in memory. */
    sharedOutbox?: boolean;
  },
): EgressQueue {
  const { log, now } = deps;
  // Longer than any delivery (bounded by the request timeout) plus its settle.
  const leaseMs = Math.max(30_000, cfg.requestTimeoutMs * 3);
  const refillAt = Math.max(1, Math.floor(cfg.concurrency / 4));
  const { tracing } = deps.telemetry ?? disabledTelemetry();
  const leased = new Set<number>();
  let inFlight = 0;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let wakePending = false;
  // One read of the outbox at a time: two overlapping reads would hand out the same rows.
  let pumping = false;
  let pumpAgain = false;
  const idle: (() => void)[] = [];

  const schedule = (delayMs: number) => {
    if (closing) return;
    clearTimeout(timer);
    timer = setTimeout(pump, Math.max(0, delayMs));
    timer.unref();
  };

  function pump(): void {
    wakePending = false;
    if (closing) return;
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    void pumpOnce().finally(() => {
      pumping = false;
      if (pumpAgain) {
        pumpAgain = false;
        pump();
      }
    });
  }

  async function pumpOnce(): Promise<void> {
    const free = cfg.concurrency - inFlight;
    if (free <= 0) return; // a finishing delivery pumps again
    // A read of the due heads costs about as much for 1 row as for 64 (it walks the due index
    // past the rows of vehicles whose head is in flight), and under load deliveries finish a few
    // at a time: reading each time made the read 35% of the egress thread. While most slots are
    // busy, wait until a quarter of them are free (a finishing delivery pumps again).
    if (!deps.sharedOutbox && inFlight > 0 && free < refillAt) return;
    const t = now();
    // The rows in flight when the outbox is read: a delivery that finishes while the read is
    // under way leaves the lease set, but the read may still show its row as due.
    const skip = new Set(leased);
    let rows: OutboxRow[];
    try {
      rows = deps.sharedOutbox
        ? // Leased in the store: exactly as many as can run, none of them in flight anywhere.
          await deps.store.leaseDueOutbox(t, cfg.concurrency - inFlight, leaseMs)
        : // Rows in flight are still the heads of their vehicles' queues: ask for enough to skip them.
          await deps.store.dueOutboxHeads(t, cfg.concurrency - inFlight + skip.size);
    } catch (err) {
      log.error({ err }, 'egress: could not read due outbox rows; retrying');
      return schedule(cfg.pollIntervalMs);
    }
    // Closing: rows leased in the store just now are due again when their lease ends.
    if (closing) return;
    const open = cfg.concurrency - inFlight;
    // The store's lease already excludes rows in flight anywhere.
    if (!deps.sharedOutbox) rows = rows.filter((r) => !skip.has(r.id)).slice(0, open);
    for (const row of rows) void run(row);
    if (rows.length < open) {
      // Every due row is taken; a finishing delivery or new records wake the queue before then.
      let due: number | undefined;
      try {
        due = await deps.store.nextDueAt();
      } catch (err) {
        log.error({ err }, 'egress: could not read when the next outbox row is due; polling');
      }
      schedule(due === undefined || due <= t ? cfg.pollIntervalMs : Math.min(cfg.pollIntervalMs, due - t));
    }
  }

  async function run(row: OutboxRow): Promise<void> {
    inFlight += 1;
    leased.add(row.id);
    // The trace continues from the commit that wrote the row (its traceparent is in the row).
    const span = startConsumeSpan(tracing, row, tracing.parentFrom(row.traceParent), { [ATTR.queue]: 'local' });
    try {
      const outcome = await deps.worker(row, contextOf(span));
      // The row stays leased, so its vehicle's next row is not due, until settle resolved: the
      // outcome and its egress-log entry MUST be durable (on SQLite, the writer's turn committed).
      await deps.settler.settle(outcome);
      logOutcome(log, row, outcome, span);
      span.end();
    } catch (err) {
      // A store failure here leaves the row leased; it is retried when the lease ends.
      log.error({ err, recordId: row.recordId, ...logFields(span) }, 'egress: could not record the delivery outcome');
      failSpan(span, err);
    } finally {
      inFlight -= 1;
      leased.delete(row.id);
      if (inFlight === 0) idle.splice(0).forEach((f) => f());
      // Coalesced: deliveries finishing in the same turn share one read of the outbox.
      queue.wake();
    }
  }

  const queue: EgressQueue = {
    kind: 'local',
    wake() {
      if (wakePending || closing) return;
      wakePending = true;
      setImmediate(pump);
    },
    get inFlight() {
      return inFlight;
    },
    // The outbox table holds every OEM's rows already.
    addOem: async () => undefined,
    async close() {
      closing = true;
      clearTimeout(timer);
      if (inFlight === 0) return;
      await Promise.race([
        new Promise<void>((resolve) => idle.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, cfg.requestTimeoutMs).unref()),
      ]);
    },
  };
  pump();
  return queue;
}
