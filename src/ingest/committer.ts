/**
 * Group commit. Every record submitted in one turn of the event loop (a socket read often
 * holds dozens of PUBLISH packets) is written in one durable transaction, so the fsync that
 * backs each acknowledgement is shared. One commit is in flight at a time: what is submitted
 * while it is under way waits and goes in the next one (with a networked store, the batch
 * grows with the commit's latency rather than the number of transactions).
 *
 * Contract: the promise returned by `submit` MUST resolve only after the item's transaction
 * is durable; callers MUST NOT acknowledge the car (PUBACK, HTTP 2xx) before it resolves.
 * When more than `maxPending` items wait, `submit` rejects with SHK_INGEST_BACKPRESSURE
 * (retriable) and nothing of that item was stored.
 */
import type { IngestItem, Store } from '../store/index.js';
import { ShekaraError } from '../errors.js';

export interface Committer {
  /** Resolves, once durable, with how many items shared that transaction (telemetry). */
  submit(item: IngestItem): Promise<number>;
  /** Commits whatever is waiting, now; resolves when nothing is waiting or being committed. */
  flush(): Promise<void>;
  readonly pending: number;
}

interface Waiting {
  item: IngestItem;
  resolve: (batchSize: number) => void;
  reject: (e: unknown) => void;
}

const storeError = (cause: unknown) =>
  new ShekaraError('SHK_INGEST_STORE', `local store commit failed: ${(cause as Error).message}`, {
    retriable: true,
    cause,
  });

export function createCommitter(
  store: Pick<Store, 'commitIngest'>,
  /** `saturated`: the egress queue is full (egress.maxBacklog); new items are pushed back too. */
  opts: { maxBatch: number; maxPending: number; saturated?: () => boolean },
  onCommitted: (count: number) => void,
): Committer {
  let queue: Waiting[] = [];
  let scheduled = false;
  let draining = false;
  let drained: Promise<void> = Promise.resolve();

  const drain = async (): Promise<void> => {
    draining = true;
    try {
      while (queue.length > 0) {
        const batch = queue.length <= opts.maxBatch ? queue : queue.slice(0, opts.maxBatch);
        queue = queue.length <= opts.maxBatch ? [] : queue.slice(opts.maxBatch);
        try {
          await store.commitIngest(batch.map((w) => w.item));
        } catch (cause) {
          // One bad item must not take its neighbours down with it: commit them one by one,
          // so only the item that fails on its own is refused.
          if (batch.length > 1) {
            await commitEach(batch);
            continue;
          }
          batch[0]!.reject(storeError(cause));
          continue;
        }
        for (const w of batch) w.resolve(batch.length);
        onCommitted(batch.length);
      }
    } finally {
      // Cleared in the same step as the loop's last check: a submit after it schedules a flush.
      draining = false;
    }
  };

  const flush = (): Promise<void> => {
    scheduled = false;
    if (!draining) drained = drain();
    return drained;
  };

  const commitEach = async (batch: Waiting[]): Promise<void> => {
    let committed = 0;
    for (const w of batch) {
      try {
        await store.commitIngest([w.item]);
      } catch (cause) {
        w.reject(storeError(cause));
        continue;
      }
      w.resolve(1);
      committed += 1;
    }
    if (committed > 0) onCommitted(committed);
  };

  return {
    submit(item) {
      if (queue.length >= opts.maxPending) {
        return Promise.reject(
          new ShekaraError(
            'SHK_INGEST_BACKPRESSURE',
            `${queue.length} records are waiting for the store; try again shortly`,
            { retriable: true },
          ),
        );
      }
      if (opts.saturated?.()) {
        return Promise.reject(
          new ShekaraError('SHK_INGEST_BACKPRESSURE', 'the egress queue is saturated; try again shortly', {
            retriable: true,
            details: { cause: 'SHK_EGRESS_SATURATED' },
          }),
        );
      }
      return new Promise<number>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!scheduled && !draining) {
          // a commit under way takes it next
          scheduled = true;
          setImmediate(() => void flush());
        }
      });
    },
    flush,
    get pending() {
      return queue.length;
    },
  };
}
