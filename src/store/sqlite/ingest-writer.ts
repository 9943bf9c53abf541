/**
 * The writer thread: ONE thread per store file per process commits ingest and settles delivery
 * outcomes, on its own connection, so the inserts and the fsync that makes each commit durable
 * never stall a calling thread's event loop, and so one fsync backs both.
 *
 * Who talks to it: the store that started it (`ingestWriterThread`, the main thread's store),
 * and any other store of this process on the same file through a port to it (`connect`, then
 * `writerClient` in that thread: the egress thread's store). Each request is resolved with the
 * number of the writer's transaction (its turn) that committed it.
 *
 * Contract:
 * - `commit` (ingest), `settle` (outcomes with their egress-log rows and leaves) and
 *   `markPublished` (the Kafka relay's mark) MUST resolve only after the transaction that holds
 *   them committed (synchronous=FULL: on disk). So MUST `lease` (the Kafka relay's lease of
 *   unpublished rows), which resolves with the ids it leased: ids only, the rows' contents are
 *   read by the relay on its own connection (outbox/sqlite.ts `sqliteRelayLease`), not here. That is what ingest/committer.ts promises the
 *   car, and what egress/settler.ts promises the queues (a lease or offset let go only then).
 * - A turn commits every request that reached the thread before it began (ingest-writer.worker.ts):
 *   records and the outcomes that arrived meanwhile share one transaction and one fsync. A
 *   request that fails on its own is rolled back alone (a savepoint) and rejected; the rest of
 *   the turn commits.
 *
 * The thread starts on the first commit or connect (the schema is migrated by then) and is
 * stopped by `close`. A thread that dies fails what it held; the next commit starts a new one,
 * and a client whose port closed asks its link for a new one.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { profilerArgs, threadEntry } from '../../thread-entry.js';
import type { EgressSettlement, IngestItem } from '../types.js';
import { releaseHeldBy } from './write-lock.js';
import { storedShapes, type ShapedProjection } from '../outbox/shapes.js';

export interface IngestWriter {
  /** Resolves, once committed, with the writer's turn (transaction number) that held it. */
  commit(items: readonly IngestItem[]): Promise<number>;
  /** settleOutbox in the thread, likewise. */
  settle(items: readonly EgressSettlement[]): Promise<number>;
  /** markPublished (the Kafka relay's mark) in the thread, likewise. */
  markPublished(ids: readonly number[]): Promise<number>;
  /** The Kafka relay's lease in the thread: the ids it leased, once committed. */
  lease(now: number, limit: number, leaseMs: number): Promise<number[]>;
  close(): Promise<void>;
}

export interface SharedWriter extends IngestWriter {
  /** A port to the thread (started if need be), for a store in another thread of this process. */
  connect(): MessagePort;
  /** How busy the thread has been since this writer was made (across restarts of the thread). */
  stats(): WriterStats;
}

/**
 * Totals since start: `busySeconds` inside turns (the statements and the commit's fsync), and
 * `lockWaitSeconds` waiting for the file's write lock (another thread writing) before them. The
 * rate of `busySeconds` is the thread's busy share: near 1, every write of the process waits for it.
 */
export interface WriterStats {
  readonly turns: number;
  readonly busySeconds: number;
  readonly lockWaitSeconds: number;
}

export interface WriterOptions {
  /**
   * A turn takes every queued outcome but ingest commits only up to this many records (at least
   * one commit): the bound on what an outcome waits for under full ingest (ingest-writer.worker.ts).
   */
  readonly ingestRecordsPerTurn?: number;
}

/** What the thread is started with. */
export interface WriterThreadData {
  readonly file: string;
  readonly ingestRecordsPerTurn: number;
  /** BigInt64Array cells: busy µs, lock-wait µs, turns. */
  readonly stats: SharedArrayBuffer;
}

/** One ingest commit's worth (the committer's default `commitMaxBatch`). */
const INGEST_RECORDS_PER_TURN = 256;

/** How a store in another thread reaches the writer: a port, and where to get a new one. */
export interface WriterLink {
  readonly port: MessagePort;
  /** The writer thread died (its port closed): a port to the one that replaces it. */
  reconnect(): Promise<MessagePort>;
}

export interface WriterRequest {
  readonly seq: number;
  readonly items: readonly IngestItem<ShapedProjection>[];
  /** Outcomes to settle. */
  readonly settle?: readonly EgressSettlement[];
  /** Outbox rows to mark published. */
  readonly published?: readonly number[];
  /** Unpublished rows to lease (answered with their ids). */
  readonly lease?: { readonly now: number; readonly limit: number; readonly leaseMs: number };
}
/** To the thread on its parent port: a request, or a client's port. */
export type WriterMessage = WriterRequest | { readonly connect: MessagePort };
export interface WriterReply {
  readonly seq: number;
  /** The turn that committed the request (absent when it failed). */
  readonly turn?: number;
  readonly error?: string;
  /** The ids a `lease` request leased. */
  readonly ids?: number[];
}

function startWorker(data: WriterThreadData): Worker {
  const entry = threadEntry(import.meta.url, 'ingest-writer.worker');
  return new Worker(entry.url, { eval: entry.eval, execArgv: profilerArgs(), workerData: data });
}

const rawOf = (it: IngestItem<unknown>): Buffer => (it.kind === 'record' ? it.raw : it.item.raw);

/**
 * What crosses to the thread for one commit: plain items whose payloads are views of ONE buffer
 * of exactly their total size, transferred, not cloned. A payload is a slice of the socket chunk
 * it arrived in (or of Buffer's 8 KB pool), and a structured clone copies a view's whole
 * underlying ArrayBuffer: every record would cross with its 64 KB chunk (36 µs against 1.7 µs per
 * record, measured). Copied here, the caller's buffers stay its own.
 *
 * Each projection crosses with its shape by digest, and the shape's texts only while `shapes`
 * does not know it stored (outbox/shapes.ts `storedShapes`): the digests whose texts went are
 * added to `carried`, for the caller to report once the commit committed.
 */
export function forThread(
  items: readonly IngestItem[],
  shapes: ReturnType<typeof storedShapes>,
  carried: Set<string>,
): { items: IngestItem<ShapedProjection>[]; transfer: ArrayBuffer[] } {
  let size = 0;
  for (const it of items) size += rawOf(it).byteLength;
  // Not from Buffer's pool: a pooled slice cannot be transferred, and its pool would cross whole.
  const all = Buffer.allocUnsafeSlow(size);
  let at = 0;
  const copy = (raw: Buffer): Buffer => {
    const view = all.subarray(at, at + raw.byteLength);
    raw.copy(all, at);
    at += raw.byteLength;
    return view;
  };
  const out = items.map((it): IngestItem<ShapedProjection> => {
    if (it.kind === 'quarantine') return { ...it, item: { ...it.item, raw: copy(it.item.raw) } };
    const projections = it.projections.map((p) => shapes.crossing(p, carried));
    return { ...it, raw: copy(it.raw), projections };
  });
  return { items: out, transfer: size > 0 ? [all.buffer as ArrayBuffer] : [] };
}

interface Endpoint {
  postMessage(m: WriterRequest, transfer?: readonly ArrayBuffer[]): void;
  ref(): void;
  unref(): void;
}

/** Requests by sequence number over one endpoint at a time; replies resolve them. */
function requests() {
  let seq = 0;
  const waiting = new Map<number, { resolve: (reply: WriterReply) => void; reject: (e: Error) => void }>();
  const idle: (() => void)[] = [];
  return {
    get size() {
      return waiting.size;
    },
    send(to: Endpoint, request: Omit<WriterRequest, 'seq'>, transfer?: readonly ArrayBuffer[]): Promise<WriterReply> {
      const n = ++seq;
      return new Promise<WriterReply>((resolve, reject) => {
        if (waiting.size === 0) to.ref(); // a request under way keeps the thread alive
        waiting.set(n, { resolve, reject });
        to.postMessage({ seq: n, ...request } satisfies WriterRequest, transfer);
      });
    },
    reply(from: Endpoint, m: WriterReply): void {
      const entry = waiting.get(m.seq);
      if (!entry) return;
      waiting.delete(m.seq);
      if (waiting.size === 0) {
        from.unref(); // an idle writer does not keep the process alive
        idle.splice(0).forEach((f) => f());
      }
      if (m.error === undefined) entry.resolve(m);
      else entry.reject(new Error(m.error));
    },
    failAll(err: Error): void {
      for (const w of waiting.values()) w.reject(err);
      waiting.clear();
      idle.splice(0).forEach((f) => f());
    },
    /** Resolves once nothing is waiting. */
    drained(): Promise<void> {
      return waiting.size === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
    },
  };
}

type Send = (request: Omit<WriterRequest, 'seq'>, transfer?: readonly ArrayBuffer[]) => Promise<WriterReply>;

/** The requests, whoever sends them (the owning store, or a client in another thread). */
const writerRequests = (send: Send): Omit<IngestWriter, 'close'> => {
  const turnOf = (r: WriterReply) => r.turn ?? 0;
  // Of the one store file, whichever thread (or restarted writer thread) commits.
  const shapes = storedShapes();
  return {
    commit: (items) => {
      const carried = new Set<string>();
      const { items: crossing, transfer } = forThread(items, shapes, carried);
      return send({ items: crossing }, transfer).then((r) => {
        if (carried.size > 0) shapes.committed(carried);
        return turnOf(r);
      });
    },
    settle: (items) => send({ items: [], settle: items }).then(turnOf),
    markPublished: (ids) => send({ items: [], published: ids }).then(turnOf),
    lease: (now, limit, leaseMs) => send({ items: [], lease: { now, limit, leaseMs } }).then((r) => r.ids ?? []),
  };
};

/** The writer thread of `file`, started and owned by this store. */
export function ingestWriterThread(file: string, opts: WriterOptions = {}): SharedWriter {
  let worker: Worker | undefined;
  const pending = requests();
  const data: WriterThreadData = {
    file,
    ingestRecordsPerTurn: opts.ingestRecordsPerTurn ?? INGEST_RECORDS_PER_TURN,
    stats: new SharedArrayBuffer(3 * BigInt64Array.BYTES_PER_ELEMENT),
  };
  const cells = new BigInt64Array(data.stats);

  const ensure = (): Worker => {
    if (worker) return worker;
    const w = startWorker(data);
    const tid = w.threadId; // read now: an exited worker's id is not kept
    w.on('message', (m: WriterReply) => pending.reply(w, m));
    w.on('error', (err) => {
      if (worker === w) worker = undefined;
      pending.failAll(err);
    });
    w.on('exit', (code) => {
      releaseHeldBy(tid); // terminated mid-transaction: the others must not wait for it
      if (worker === w) worker = undefined;
      pending.failAll(new Error(`the ingest writer thread exited (${code})`));
    });
    w.unref();
    worker = w;
    return w;
  };

  return {
    ...writerRequests((request, transfer) => pending.send(ensure(), request, transfer)),
    stats: () => ({
      busySeconds: Number(Atomics.load(cells, 0)) / 1e6,
      lockWaitSeconds: Number(Atomics.load(cells, 1)) / 1e6,
      turns: Number(Atomics.load(cells, 2)),
    }),
    connect() {
      const { port1, port2 } = new MessageChannel();
      ensure().postMessage({ connect: port2 } satisfies WriterMessage, [port2]);
      return port1;
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (!w) return;
      // Commits already handed over finish first: the thread reads its messages in order.
      await pending.send(w, { items: [] }).catch(() => undefined);
      await w.terminate();
    },
  };
}

/**
 * A store's writer in another thread of this process, reached through `link` (egress thread):
 * the same requests, committed in the same turns as the owner's.
 */
export function writerClient(link: WriterLink): IngestWriter {
  const pending = requests();
  let port: MessagePort | undefined;
  let connecting: Promise<MessagePort> | undefined;
  let closed = false;

  const attach = (p: MessagePort): MessagePort => {
    p.on('message', (m: WriterReply) => pending.reply(p, m));
    // The writer thread exited (or was stopped): what it held is failed, the next request reconnects.
    p.once('close', () => {
      if (port === p) port = undefined;
      pending.failAll(new Error('the store writer thread exited'));
    });
    p.unref();
    port = p;
    return p;
  };
  attach(link.port);

  const current = async (): Promise<MessagePort> => {
    if (closed) throw new Error('the store is closed');
    if (port) return port;
    connecting ??= link.reconnect().then(
      (p) => {
        connecting = undefined;
        return attach(p);
      },
      (err: unknown) => {
        connecting = undefined;
        throw err;
      },
    );
    return connecting;
  };
  // Posted at once when connected: a request made while the writer waits for the lock joins its turn.
  const send = (request: Omit<WriterRequest, 'seq'>, transfer?: readonly ArrayBuffer[]): Promise<WriterReply> =>
    port && !closed ? pending.send(port, request, transfer) : current().then((p) => pending.send(p, request, transfer));

  return {
    ...writerRequests(send),
    async close() {
      closed = true;
      await pending.drained();
      port?.close();
      port = undefined;
    },
  };
}
