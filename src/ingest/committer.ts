/**
 * Group commit. Every record submitted in one turn of the event loop (a socket read often
 * holds dozens of PUBLISH packets) is written in one durable transaction, so the fsync that
 * backs each acknowledgement is shared. One commit is in flight at a time: what is submitted
 * while it is under way waits and goes in the next one (with a networked store, the batch
 * grows with the commit's latency rather than the number of transactions).
 *
 * Contract: the promise returned by `submit` MUST resolve only after the item's transaction
 * is durable; callers MUST NOT acknowledge the car (PUBACK, HTTP 2xx) before it resolves.
 * When more than `maxPending` items wait, or the egress queue is saturated, `submit` rejects
 * with SHK_INGEST_BACKPRESSURE (retriable) and nothing of that item was stored — at once, or,
 * for a caller that says how to wait (`WaitForRoom`), once it stops waiting.
 *
 * Waiting callers are parked in one FIFO and let in as room frees, in arrival order (so one
 * car's messages keep their order). They used to poll, each on its own 50 ms timer and each
 * look a fresh error with a stack trace: at 40,000 msgs/s offered that was ~2 million failed
 * submits a second, which took the CPU from the commits and grew the process to 2.2 GB
 * (docs/benchmarks.md, overload). Parked, a waiting record costs its place in the array.
 */
import type { IngestItem, Store } from '../store/index.js';
import { ShekaraError } from '../errors.js';

/** How a caller waits for room instead of being pushed back at once (src/ingest/pushback.ts). */
export interface WaitForRoom {
  /** How often room is looked for while anyone waits (ms). */
  readonly afterMs: number;
  /** Asked every SWEEP_EVERY looks while waiting: keep waiting? No → pushed back. */
  again(): boolean;
}

export interface Committer {
  /**
   * Resolves, once durable, with how many items shared that transaction (telemetry). With
   * `wait`, a pushed-back item waits in line for room while `wait.again()` holds.
   */
  submit(item: IngestItem, wait?: WaitForRoom): Promise<number>;
  /**
   * Commits whatever is queued, now; resolves when nothing is queued or being committed.
   * Waiters that no longer want to wait (their car left: shutdown) are pushed back first.
   */
  flush(): Promise<void>;
  /** Items queued for the next commit. */
  readonly pending: number;
  /** Items waiting in line for room (pushed back, not yet queued). */
  readonly waiting: number;
}

interface Waiting {
  item: IngestItem;
  resolve: (batchSize: number) => void;
  reject: (e: unknown) => void;
}

interface Parked extends Waiting {
  wait: WaitForRoom;
}

/** Waiters are asked whether they still wait once every this many looks for room (50 ms → 1 s). */
const SWEEP_EVERY = 20;

type Blocked = 'full' | 'saturated';

const pushBack = (why: Blocked, queued: number) =>
  why === 'full'
    ? new ShekaraError('SHK_INGEST_BACKPRESSURE', `${queued} records are waiting for the store; try again shortly`, {
        retriable: true,
      })
    : new ShekaraError('SHK_INGEST_BACKPRESSURE', 'the egress queue is saturated; try again shortly', {
        retriable: true,
        details: { cause: 'SHK_EGRESS_SATURATED' },
      });

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
  // The line of waiters: parked[head..] in arrival order (a head index, not shift(): the line
  // can hold ~100,000 entries under overload).
  let parked: (Parked | undefined)[] = [];
  let head = 0;
  let ticker: NodeJS.Timeout | undefined;
  let looks = 0;

  const blocked = (): Blocked | undefined =>
    queue.length >= opts.maxPending ? 'full' : opts.saturated?.() ? 'saturated' : undefined;

  const enqueue = (w: Waiting): void => {
    queue.push(w);
    if (!scheduled && !draining) {
      // a commit under way takes it next
      scheduled = true;
      setImmediate(() => void flush());
    }
  };

  /** Lets waiters in, first come first served, while there is room. */
  const admit = (): void => {
    while (head < parked.length && blocked() === undefined) {
      const p = parked[head]!;
      parked[head++] = undefined;
      enqueue(p);
    }
    settleLine();
  };

  /** Pushes back every waiter that no longer waits (its car left, or it waited long enough). */
  const sweep = (): void => {
    const kept: Parked[] = [];
    for (let i = head; i < parked.length; i++) {
      const p = parked[i]!;
      if (p.wait.again()) kept.push(p);
      else p.reject(pushBack(blocked() ?? 'full', queue.length));
    }
    parked = kept;
    head = 0;
    settleLine();
  };

  const settleLine = (): void => {
    if (head === parked.length) {
      parked = [];
      head = 0;
      if (ticker) clearInterval(ticker);
      ticker = undefined;
    } else if (head > 1024 && head * 2 > parked.length) {
      parked = parked.slice(head);
      head = 0;
    }
  };

  const park = (p: Parked): void => {
    parked.push(p);
    // One timer for the whole line. Room frees when a commit ends (drain lets waiters in) or
    // when the egress backlog falls (seen only by looking: the ticker).
    ticker ??= setInterval(() => {
      if (++looks % SWEEP_EVERY === 0) sweep();
      admit();
    }, p.wait.afterMs).unref();
  };

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
        admit();
      }
    } finally {
      // Cleared in the same step as the loop's last check: a submit after it schedules a flush.
      draining = false;
    }
    admit();
  };

  const flush = (): Promise<void> => {
    scheduled = false;
    if (head < parked.length) sweep();
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
    submit(item, wait) {
      // A caller that can wait goes behind those already waiting: the line keeps arrival order.
      const lineAhead = wait !== undefined && head < parked.length;
      const why = lineAhead ? undefined : blocked();
      if (!lineAhead && why === undefined)
        return new Promise<number>((resolve, reject) => enqueue({ item, resolve, reject }));
      if (!wait) return Promise.reject(pushBack(why ?? 'full', queue.length));
      return new Promise<number>((resolve, reject) => {
        park({ item, resolve, reject, wait });
        admit();
      });
    },
    flush,
    get pending() {
      return queue.length;
    },
    get waiting() {
      return parked.length - head;
    },
  };
}
