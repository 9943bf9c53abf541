/**
 * The self-check (self-check.ts) on a worker thread of its own, for a SQLite file store: reading
 * every new leaf back, hashing its entry again and re-reading old leaves is CPU the main thread's
 * event loop (ingest, the APIs) must not wait for. The thread opens its own READ-ONLY connection
 * to the file (self-check.worker.ts): in WAL mode a reader neither waits for the writer thread nor
 * makes it wait, and it never takes this process's write lock (store/sqlite/write-lock.ts).
 *
 * The main thread reads the size, the previous checkpoint and the root the stored nodes give, as
 * before, and sends them with its clock's time; the thread answers with the root it rebuilt from
 * the entries, or the SHK_AUDIT_SELF_CHECK error's code, message and details, re-raised here as
 * the same ShekaraError. Its checked frontier and rolling re-check live in the thread; the pacing
 * of the re-check follows the time each request carries, so it is the caller's clock, as inline.
 *
 * Contract:
 * - `check` MUST resolve only with a root the thread rebuilt from the entries of exactly `size`
 *   leaves and compared as self-check.ts says: the caller signs nothing else.
 * - A thread that exits (or fails) while a check is under way MUST fail that check (logged at
 *   error, never a root); the next check starts a new thread, which knows nothing checked yet
 *   and so checks every leaf again from leaf 0.
 * - `close` waits for the check under way, then lets the thread close its connection and end by
 *   itself; it is terminated only if it does not within EXIT_GRACE_MS.
 */
import { Worker } from 'node:worker_threads';
import { ErrorCodes, ShekaraError } from '../errors.js';
import type { Logger } from '../log.js';
import { profilerArgs, threadEntry } from '../thread-entry.js';
import type { SelfCheck } from './self-check.js';

/** What the thread is started with. */
export interface SelfCheckThreadData {
  readonly file: string;
}

/** To the thread: one check (`self-check.ts` `check`, with the caller's clock), or the end. */
export type ToSelfCheck =
  | {
      readonly seq: number;
      readonly size: number;
      readonly prev?: { readonly size: number; readonly root: Uint8Array };
      readonly storedRoot: Uint8Array;
      readonly now: number;
    }
  | { readonly close: true };

/** From the thread: the rebuilt root, or why the check failed. */
export interface FromSelfCheck {
  readonly seq: number;
  readonly root?: Uint8Array;
  readonly error?: { readonly message: string; readonly code?: string; readonly details?: Record<string, unknown> };
}

/** How long a closed thread gets to end on its own before it is terminated. */
const EXIT_GRACE_MS = 2_000;

export interface SelfCheckThread extends SelfCheck {
  close(): Promise<void>;
}

export function selfCheckThread(
  file: string,
  deps: { readonly log: Logger; readonly now: () => number },
): SelfCheckThread {
  const data: SelfCheckThreadData = { file };
  let worker: Worker | undefined;
  let seq = 0;
  const waiting = new Map<number, { resolve: (root: Buffer) => void; reject: (err: Error) => void }>();

  const failAll = (err: Error): void => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };

  const ensure = (): Worker => {
    if (worker) return worker;
    const entry = threadEntry(import.meta.url, 'self-check.worker');
    const w = new Worker(entry.url, {
      eval: entry.eval,
      execArgv: profilerArgs(),
      workerData: data,
      name: 'shekara-audit-self-check',
    });
    w.on('message', (m: FromSelfCheck) => {
      const entry = waiting.get(m.seq);
      if (!entry) return;
      waiting.delete(m.seq);
      if (waiting.size === 0) w.unref(); // an idle thread does not keep the process alive
      if (m.root) entry.resolve(Buffer.from(m.root.buffer, m.root.byteOffset, m.root.byteLength));
      else entry.reject(revive(m.error ?? { message: 'the audit self-check thread answered nothing' }));
    });
    w.on('error', (err) => {
      deps.log.error({ err }, 'audit: the self-check thread failed; the check under way fails');
      if (worker === w) worker = undefined;
      failAll(err);
    });
    w.on('exit', (code) => {
      if (worker !== w) return; // closed, or already replaced after its error
      worker = undefined;
      deps.log.error({ code }, 'audit: the self-check thread exited; the next check starts a new one from leaf 0');
      failAll(new Error(`the audit self-check thread exited (${code})`));
    });
    w.unref();
    worker = w;
    return w;
  };

  return {
    check(size, prev, storedRoot) {
      const w = ensure();
      const n = ++seq;
      return new Promise<Buffer>((resolve, reject) => {
        if (waiting.size === 0) w.ref(); // a check under way keeps the thread alive
        waiting.set(n, { resolve, reject });
        w.postMessage({
          seq: n,
          size,
          ...(prev ? { prev: { size: prev.size, root: prev.root } } : {}),
          storedRoot,
          now: deps.now(),
        } satisfies ToSelfCheck);
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      // The thread reads its messages in order: a check under way is answered before it closes.
      w.postMessage({ close: true } satisfies ToSelfCheck);
      w.ref();
      const ended = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), EXIT_GRACE_MS).unref()),
      ]);
      if (!ended) await w.terminate();
      failAll(new Error('the audit self-check thread was closed'));
    },
  };
}

/** The thread's error as the caller would have seen it inline: a ShekaraError keeps its code and details. */
function revive(e: NonNullable<FromSelfCheck['error']>): Error {
  if (e.code === ErrorCodes.SHK_AUDIT_SELF_CHECK)
    return new ShekaraError(ErrorCodes.SHK_AUDIT_SELF_CHECK, e.message, { details: e.details ?? {} });
  return Object.assign(new Error(e.message), e.code === undefined ? {} : { code: e.code });
}
