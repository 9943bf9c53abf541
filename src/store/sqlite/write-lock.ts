/**
 * One write lock for every thread of this process that writes the same SQLite file: the main
 * thread, the writer thread (ingest-writer.ts: ingest commits, delivery outcomes, the Kafka
 * relay's leases and marks) and the egress thread (egress/thread.ts: its rare writes, signing
 * keys) each have their own connection, and SQLite lets one of them write at a time.
 *
 * Why not leave it to SQLite: a connection that finds the file locked waits in SQLite's busy
 * handler, which sleeps 1, 2, 5, 10, … up to 100 ms between looks and never queues. Under full
 * ingest the writer thread commits back to back with only a message round trip between its
 * transactions, so a sleeping egress thread almost never looks at the right moment: in a 40,000
 * msgs/s run deliveries stopped for 7 s while 12,000 records/s were stored, and the egress
 * thread was measured waiting up to 1.3 s for one transaction (docs/benchmarks.md, overload).
 *
 * This lock is a word in shared memory (one `SharedArrayBuffer` per file, inherited by every
 * worker through `setEnvironmentData`): a thread that finds it held sleeps in `Atomics.wait` and
 * is woken the moment it is released. A thread that released it while others wait MUST let one
 * of them go first (it waits until another thread has taken it), so two writers alternate
 * instead of one starving the other. SQLite's own lock and busy handler stay underneath: other
 * processes (the CLI) still meet them, and a thread of this process that writes outside the lock
 * is still safe, only unfair.
 *
 * A thread that dies holding the lock (a worker terminated mid-transaction) would block the
 * others; the thread that started it calls `releaseHeldBy` on its exit (ingest-writer.ts, egress/thread.ts).
 */
import { getEnvironmentData, setEnvironmentData, threadId } from 'node:worker_threads';
import { realpathSync } from 'node:fs';
import path from 'node:path';

export interface WriteLock {
  /** Runs `fn` holding the lock (re-entrant on one thread: nested calls just run). */
  hold<T>(fn: () => T): T;
}

/** Cells of the shared array. */
const HOLDER = 0; // threadId + 1 of the holder, 0 when free
const WAITERS = 1; // threads sleeping for the lock
const LAST = 2; // threadId + 1 of the last thread that took it
const CELLS = 3;

/** A thread that just released waits at most this long for a waiter to take the lock. */
const YIELD_MS = 20;

const me = threadId + 1;

/** The locks this thread has used, by file: releaseHeldBy looks through them. */
const known = new Map<string, Int32Array>();

function sharedCells(file: string): Int32Array {
  const key = `shekara.sqlite.writeLock:${canonical(file)}`;
  const seen = known.get(key);
  if (seen) return seen;
  let sab = getEnvironmentData(key) as SharedArrayBuffer | undefined;
  if (!sab) {
    sab = new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT);
    // Workers started from now on (by this thread) see the same buffer: the store MUST be opened
    // in the main thread before the threads that write it are started (app.ts does).
    setEnvironmentData(key, sab);
  }
  const cells = new Int32Array(sab);
  known.set(key, cells);
  return cells;
}

const canonical = (file: string): string => {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
};

export class WriteLockTimeout extends Error {
  readonly code = 'SQLITE_BUSY';
  constructor(waitedMs: number, holder: number) {
    super(`database is locked: another thread of this process (${holder - 1}) held the write lock for ${waitedMs} ms`);
  }
}

/**
 * The lock for `file` (`:memory:` has no other connection: a lock that never waits).
 * `timeoutMs`: how long to wait before failing as SQLite would (SQLITE_BUSY).
 */
export function writeLock(file: string, timeoutMs: number): WriteLock {
  if (file === ':memory:') return { hold: (fn) => fn() };
  const cells = sharedCells(file);
  let depth = 0;

  const acquire = (): void => {
    const start = performance.now();
    // Politeness: having just had it, let a waiting thread go first.
    if (Atomics.load(cells, LAST) === me && Atomics.load(cells, WAITERS) > 0) Atomics.wait(cells, LAST, me, YIELD_MS);
    for (;;) {
      const holder = Atomics.compareExchange(cells, HOLDER, 0, me);
      if (holder === 0) {
        Atomics.store(cells, LAST, me);
        Atomics.notify(cells, LAST); // a yielding releaser may go on waiting its turn
        return;
      }
      const left = timeoutMs - (performance.now() - start);
      if (left <= 0) throw new WriteLockTimeout(Math.round(performance.now() - start), holder);
      Atomics.add(cells, WAITERS, 1);
      try {
        Atomics.wait(cells, HOLDER, holder, left);
      } finally {
        Atomics.sub(cells, WAITERS, 1);
      }
    }
  };

  const release = (): void => {
    Atomics.store(cells, HOLDER, 0);
    Atomics.notify(cells, HOLDER, 1);
  };

  return {
    hold(fn) {
      if (depth > 0) return fn();
      acquire();
      depth = 1;
      try {
        return fn();
      } finally {
        depth = 0;
        release();
      }
    },
  };
}

/**
 * How many threads of this process are asleep waiting for `file`'s lock right now (0 for a file
 * whose lock this thread has not used). A diagnostic: what the fairness rule above acts on.
 */
export function waitersFor(file: string): number {
  return file === ':memory:' ? 0 : Atomics.load(sharedCells(file), WAITERS);
}

/** Frees every lock this thread knows that the thread `deadThreadId` (which has exited) still holds. */
export function releaseHeldBy(deadThreadId: number): void {
  for (const cells of known.values())
    if (Atomics.compareExchange(cells, HOLDER, deadThreadId + 1, 0) === deadThreadId + 1)
      Atomics.notify(cells, HOLDER, 1);
}
