/**
 * Group commit of delivery outcomes: outcomes that arrive together are written in one store
 * transaction (one fsync; at synchronous=FULL the fsync, not the SQL, bounds outcomes/s). On a
 * SQLite file store that batch goes to the process's one writer thread, whose next turn commits
 * it together with the ingest records that arrived meanwhile (store/sqlite/ingest-writer.ts).
 * Idle, an outcome is flushed at once (microtask): the log says what the OEM saw without delay.
 * Busy (a flush within the last BUSY_MS), flushes wait for setImmediate, so every response that
 * arrived in the same poll phase shares one commit.
 *
 * Contract: the promise returned by `settle` MUST resolve only after the outcome and its
 * egress-log row are durable; queues MUST NOT commit a Kafka offset or let a lease lapse into
 * "done" before it resolves. If the store throws, every outcome of that batch rejects.
 */
import type { EgressSettlement, Store } from '../store/index.js';

export interface Settler {
  settle(item: EgressSettlement): Promise<void>;
}

const BUSY_MS = 5;

export function createSettler(store: Pick<Store, 'settleOutbox'>, maxBatch = 512): Settler {
  let lastFlush = -Infinity;
  let queue: { item: EgressSettlement; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let scheduled = false;
  // One commit in flight at a time: outcomes that arrive meanwhile wait and share the next one.
  let flushing = false;
  const flush = async () => {
    scheduled = false;
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(maxBatch);
        try {
          await store.settleOutbox(batch.map((w) => w.item));
        } catch (err) {
          for (const w of batch) w.reject(err);
          continue;
        }
        for (const w of batch) w.resolve();
      }
    } finally {
      flushing = false;
      lastFlush = performance.now();
    }
  };
  return {
    settle: (item) =>
      new Promise<void>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (scheduled || flushing) return; // the flush under way takes it

        scheduled = true;
        if (performance.now() - lastFlush < BUSY_MS) setImmediate(() => void flush());
        else queueMicrotask(() => void flush());
      }),
  };
}
