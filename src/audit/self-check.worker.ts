/**
 * The self-check thread's body (self-check-thread.ts): `createSelfCheck` over the store file's
 * leaves, read through a connection of its own that MUST only read. It is opened read-only, so
 * it never writes, never takes this process's write lock and, the store being in WAL mode, never
 * waits for the writer thread nor makes it wait. Checks arrive one at a time and are answered in
 * order; the clock of each is the one the request carries (the caller's).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { ShekaraError } from '../errors.js';
import { sqliteAuditQueries } from '../store/audit/sqlite-queries.js';
import { createSelfCheck } from './self-check.js';
import type { FromSelfCheck, SelfCheckThreadData, ToSelfCheck } from './self-check-thread.js';
import { nameThread } from '../thread-entry.js';

nameThread('shk-selfcheck');

/** As long as the store's own connections wait for SQLite's locks (store/sqlite/ingest-tx.ts). */
const BUSY_TIMEOUT_MS = 5_000;

const { file } = workerData as SelfCheckThreadData;
const port = parentPort!;
const db = new Database(file, { readonly: true, fileMustExist: true });
db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
const queries = sqliteAuditQueries(db);
let clock = 0;
const selfCheck = createSelfCheck(
  { exportLeaves: async (afterIndex, before, limit) => queries.exportLeaves(afterIndex, before, limit) },
  () => clock,
);

/** A Buffer crosses a thread as a Uint8Array. */
const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** One at a time, in arrival order: the self-check's frontier moves with each passing check. */
let queue: Promise<void> = Promise.resolve();

port.on('message', (m: ToSelfCheck) => {
  queue = queue.then(async () => {
    if ('close' in m) {
      db.close();
      port.close();
      return;
    }
    clock = m.now;
    let reply: FromSelfCheck;
    try {
      const prev = m.prev && { size: m.prev.size, root: buf(m.prev.root) };
      reply = { seq: m.seq, root: await selfCheck.check(m.size, prev, buf(m.storedRoot)) };
    } catch (err) {
      // A ShekaraError keeps its code and details (the caller re-raises it); a store error its code.
      const code = (err as { code?: unknown } | undefined)?.code;
      reply = {
        seq: m.seq,
        error: {
          message: err instanceof Error ? err.message : String(err),
          ...(typeof code === 'string' ? { code } : {}),
          ...(err instanceof ShekaraError ? { details: { ...err.details } } : {}),
        },
      };
    }
    port.postMessage(reply);
  });
});
