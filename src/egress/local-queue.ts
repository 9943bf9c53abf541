/**
 * The local durable queue: the outbox table in the store IS the queue (embedded default).
 * Workers lease due rows — only the head of each vehicle's queue, so order per vehicle holds
 * across retries — and settle each outcome in the store. A crash mid-delivery leaves the row
 * leased; it is due again when the lease ends (at-least-once, same record id).
 */
import type { OutboxRow, Store } from '../store/index.js';
import type { Logger } from '../log.js';
import type { DeliveryWorker } from './worker.js';
import type { Settler } from './settler.js';
import type { EgressQueue } from './queue.js';

export interface LocalQueueConfig { readonly concurrency: number; readonly pollIntervalMs: number; readonly requestTimeoutMs: number }

export function startLocalQueue(
  cfg: LocalQueueConfig,
  deps: { store: Pick<Store, 'leaseDueOutbox' | 'nextDueAt'>; worker: DeliveryWorker; settler: Settler; log: Logger; now: () => number },
): EgressQueue {
  const { log, now } = deps;
  const leaseMs = cfg.requestTimeoutMs * 2 + 1_000;
  let inFlight = 0;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let wakePending = false;
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
    const free = cfg.concurrency - inFlight;
    if (free <= 0) return; // a finishing delivery pumps again
    const t = now();
    let rows: OutboxRow[];
    try {
      rows = deps.store.leaseDueOutbox(t, free, leaseMs);
    } catch (err) {
      log.error({ err }, 'egress: could not lease outbox rows; retrying');
      return schedule(cfg.pollIntervalMs);
    }
    for (const row of rows) void run(row);
    if (rows.length < free) {
      const due = deps.store.nextDueAt();
      schedule(due === undefined ? cfg.pollIntervalMs : Math.min(cfg.pollIntervalMs, due - t));
    }
  }

  async function run(row: OutboxRow): Promise<void> {
    inFlight += 1;
    try {
      const outcome = await deps.worker(row);
      await deps.settler.settle(outcome);
      if (outcome.kind === 'dead') log.error({ recordId: row.recordId, oem: row.oem, attempt: outcome.entry.attempt, error: outcome.entry.error }, 'egress: dead-lettered');
      else if (outcome.kind === 'blocked') log.warn({ recordId: row.recordId, oem: row.oem, error: outcome.entry.error }, 'egress: blocked at send time');
      else if (outcome.kind === 'failed') log.warn({ recordId: row.recordId, oem: row.oem, attempt: outcome.entry.attempt, retryInMs: outcome.retryInMs, error: outcome.entry.error }, 'egress: delivery failed, will retry');
    } catch (err) {
      // A store failure here leaves the row leased; it is retried when the lease ends.
      log.error({ err, recordId: row.recordId }, 'egress: could not record the delivery outcome');
    } finally {
      inFlight -= 1;
      if (inFlight === 0) idle.splice(0).forEach((f) => f());
      if (!closing) pump();
    }
  }

  pump();
  return {
    kind: 'local',
    wake() {
      if (wakePending || closing) return;
      wakePending = true;
      setImmediate(pump);
    },
    get inFlight() { return inFlight; },
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
}
