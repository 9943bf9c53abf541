/**
 * The writer thread: group commits run on a worker thread with its own connection to the store
 * file, so the inserts and the fsync that makes each commit durable never stall the calling
 * thread's event loop. `commit` (ingest) resolves only after the worker's transaction committed
 * (synchronous=FULL: on disk), which is what ingest/committer.ts promises the car; `settle`
 * (delivery outcomes with their egress-log rows and leaves) likewise, which is what
 * egress/settler.ts promises the queues; and the Kafka relay's `markPublished`. Settling there takes the egress-log writes and their
 * fsync off the delivering thread, which meanwhile reads Kafka, POSTs and signs the next batch.
 *
 * The thread starts on the first commit (the schema is migrated by then) and is stopped by
 * `close`. A thread that dies fails what it held; the next commit starts a new one.
 */
import { Worker } from 'node:worker_threads';
import type { EgressSettlement, IngestItem } from '../types.js';
import type { Projection } from '../../record.js';
import { releaseHeldBy } from './write-lock.js';

export interface IngestWriter {
  commit(items: readonly IngestItem[]): Promise<void>;
  /** settleOutbox in the thread: one transaction, resolved once it committed. */
  settle(items: readonly EgressSettlement[]): Promise<void>;
  /** markPublished (the Kafka relay's mark) in the thread, likewise. */
  markPublished(ids: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

export interface WriterRequest {
  readonly seq: number;
  readonly items: readonly IngestItem[];
  /** Outcomes to settle (then `items` is empty). */
  readonly settle?: readonly EgressSettlement[];
  /** Outbox rows to mark published (then `items` is empty). */
  readonly published?: readonly number[];
}
export interface WriterReply {
  readonly seq: number;
  readonly error?: string;
}

/** Running from the TypeScript sources (tests, tsx): the worker loads them through tsx. */
function startWorker(file: string): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    const url = new URL('./ingest-writer.worker.ts', self).href;
    const code = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
    return new Worker(code, { eval: true, execArgv: [], workerData: { file } });
  }
  return new Worker(new URL('./ingest-writer.worker.js', self), { execArgv: [], workerData: { file } });
}

/** Only plain data crosses to the thread: a decision object is sent as the JSON it stores. */
const plainProjection = (p: Projection): Projection => {
  const d = p.decision as (Projection['decision'] & { toJSON?: () => Projection['decision'] }) | undefined;
  return d && typeof d.toJSON === 'function' ? { ...p, decision: d.toJSON() } : p;
};
const plain = (it: IngestItem): IngestItem =>
  it.kind === 'record' && it.projections.some((p) => p.decision !== undefined)
    ? { ...it, projections: it.projections.map(plainProjection) }
    : it;

export function ingestWriterThread(file: string): IngestWriter {
  let worker: Worker | undefined;
  let seq = 0;
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  const failAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  const ensure = (): Worker => {
    if (worker) return worker;
    const w = startWorker(file);
    const tid = w.threadId; // read now: an exited worker's id is not kept
    w.on('message', (m: WriterReply) => {
      const entry = waiting.get(m.seq);
      if (!entry) return;
      waiting.delete(m.seq);
      if (waiting.size === 0) w.unref(); // an idle writer does not keep the process alive
      if (m.error === undefined) entry.resolve();
      else entry.reject(new Error(m.error));
    });
    w.on('error', (err) => {
      if (worker === w) worker = undefined;
      failAll(err);
    });
    w.on('exit', (code) => {
      releaseHeldBy(tid); // terminated mid-transaction: the others must not wait for it
      if (worker === w) worker = undefined;
      failAll(new Error(`the ingest writer thread exited (${code})`));
    });
    w.unref();
    worker = w;
    return w;
  };

  const send = (request: Omit<WriterRequest, 'seq'>) => {
    const w = ensure();
    const n = ++seq;
    return new Promise<void>((resolve, reject) => {
      if (waiting.size === 0) w.ref(); // a commit under way does
      waiting.set(n, { resolve, reject });
      w.postMessage({ seq: n, ...request } satisfies WriterRequest);
    });
  };

  return {
    commit: (items) => send({ items: items.map(plain) }),
    settle: (items) => send({ items: [], settle: items }),
    markPublished: (ids) => send({ items: [], published: ids }),
    async close() {
      const w = worker;
      worker = undefined;
      if (!w) return;
      // Commits already handed over finish first: the thread reads its messages in order.
      await new Promise<void>((resolve) => {
        const n = ++seq;
        w.ref();
        waiting.set(n, { resolve, reject: () => resolve() });
        w.postMessage({ seq: n, items: [] } satisfies WriterRequest);
      });
      await w.terminate();
    },
  };
}
