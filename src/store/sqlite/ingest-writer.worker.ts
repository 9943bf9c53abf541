/**
 * The writer thread's body (ingest-writer.ts): one connection, one transaction per turn.
 *
 * Requests arrive on the parent port (the owning store: ingest commits, the pull feed's
 * settlements) and on the ports of other stores of this process (the egress thread's:
 * settlements, the Kafka relay's marks). A turn takes the write lock, then takes the requests
 * queued on any port by then (so what arrived while it waited for the lock joins it), applies
 * each in a savepoint of one transaction, commits once (one fsync) and answers each request on
 * its own port, in order. Nothing is answered before the commit returned.
 *
 * Fair share: a turn takes EVERY queued outcome (settlements, marks) but ingest commits only up
 * to `ingestRecordsPerTurn` records (always at least one commit, whole commits, in arrival
 * order); the ingest left over waits for the next turn, which again takes every outcome queued
 * by then. Under full ingest a turn's length is what an outcome waits for, and the egress
 * thread's deliveries wait for their outcomes: without the bound, a backlog of ingest commits
 * made every outcome wait for all of it. Outcomes may overtake queued ingest: they settle rows
 * committed earlier, never rows of a commit still queued.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { IngestItem } from '../types.js';
import { ingestTransaction, openConnection } from './ingest-tx.js';
import type { WriterMessage, WriterReply, WriterRequest, WriterThreadData } from './ingest-writer.js';
import { sqliteOutbox, sqliteEgressQueue, sqliteRelayLease } from '../outbox/sqlite.js';
import { sqliteAudit } from '../audit/sqlite.js';
import { sqliteEgressLog } from '../egress-log/sqlite.js';
import { parkStatement } from '../oem-feed/sqlite.js';
import { nameThread } from '../../thread-entry.js';

nameThread('shk-writer');

const config = workerData as WriterThreadData;
const db = openConnection(config.file, Database);
const ingest = ingestTransaction(db);
// The same settle and mark transactions as the store's own connection runs (index.ts).
const { settleLogged } = sqliteEgressLog(db, sqliteOutbox(db), sqliteAudit(db));
const egress = sqliteEgressQueue(db, { settleLogged }, parkStatement(db));
const relay = sqliteRelayLease(db);

/** A Buffer crosses a thread as a Uint8Array; the store binds Buffers. */
const buf = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const revive = <P>(it: IngestItem<P>): IngestItem<P> =>
  it.kind === 'record' ? { ...it, raw: buf(it.raw) } : { ...it, item: { ...it.item, raw: buf(it.item.raw) } };

interface Taken {
  readonly port: MessagePort;
  readonly m: WriterRequest;
  error?: string;
  ids?: number[];
}

const parent = parentPort!;
const ports = new Set<MessagePort>([parent]);
let inbox: Taken[] = [];
let taking: Taken[] = [];
let scheduled = false;
let turns = 0;
/** Shared with the thread's owner (WriterStats): busy µs, lock-wait µs, turns. */
const stats = new BigInt64Array(config.stats);

const accept = (port: MessagePort, m: WriterMessage): void => {
  if ('connect' in m) return listen(m.connect);
  inbox.push({ port, m });
  if (!scheduled) {
    scheduled = true;
    // After this poll phase's messages (from every port) were accepted: they share the turn.
    setImmediate(runTurn);
  }
};
const listen = (port: MessagePort): void => {
  ports.add(port);
  port.on('message', (m: WriterMessage) => accept(port, m));
  port.once('close', () => ports.delete(port));
};
parent.on('message', (m: WriterMessage) => accept(parent, m));

/** Requests queued on any port and not yet delivered as events. */
const takeQueued = (): void => {
  for (const port of ports)
    for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port))
      accept(port, r.message as WriterMessage);
};

/** Applies one request; a lease answers with the ids it leased (the relay reads the rows itself). */
const apply = (m: WriterRequest): number[] | undefined => {
  if (m.items.length > 0) ingest(m.items.map(revive));
  if (m.settle && m.settle.length > 0) egress.settleOutbox(m.settle);
  if (m.published && m.published.length > 0) egress.markPublished(m.published);
  return m.lease && relay.leaseIds(m.lease.now, m.lease.limit, m.lease.leaseMs);
};

const message = (err: unknown) => (err as Error)?.message ?? String(err);

/** This turn's requests, out of the inbox: every outcome, and ingest up to the bound (fair share). */
const pick = (): Taken[] => {
  const picked: Taken[] = [];
  const left: Taken[] = [];
  let records = 0;
  let full = false;
  for (const t of inbox) {
    const n = t.m.items.length;
    // Not an outcome: an empty request (close's "all before me done") keeps its place behind ingest.
    if (n === 0 && (t.m.settle !== undefined || t.m.published !== undefined)) picked.push(t);
    else if (!full && (records === 0 || records + n <= config.ingestRecordsPerTurn)) {
      picked.push(t);
      records += n;
    } else {
      full = true; // later commits wait too: ingest keeps its arrival order
      left.push(t);
    }
  }
  inbox = left;
  return picked;
};

let began = 0;
// BEGIN IMMEDIATE (openConnection): the write lock is taken first, then the requests.
const turn = db.transaction(() => {
  began = performance.now();
  takeQueued();
  taking = pick();
  for (const t of taking) {
    try {
      t.ids = apply(t.m); // nested transactions: each request in its own savepoint
    } catch (err) {
      // SQLite rolled the whole transaction back (disk full, I/O error): every request fails.
      if (!db.inTransaction) throw err;
      t.error = message(err);
    }
  }
});

function runTurn(): void {
  scheduled = false;
  if (inbox.length === 0) return;
  taking = [];
  let failed: string | undefined;
  const asked = performance.now();
  began = 0;
  try {
    turn();
    turns += 1;
  } catch (err) {
    failed = message(err);
  }
  const ended = performance.now();
  const waited = (began || ended) - asked;
  Atomics.add(stats, 0, BigInt(Math.round((ended - asked - waited) * 1000)));
  Atomics.add(stats, 1, BigInt(Math.round(waited * 1000)));
  Atomics.add(stats, 2, 1n);
  // Failed before it took the queue (the lock or BEGIN): what waited in the inbox failed with it.
  const done = taking.length > 0 || inbox.length === 0 ? taking : inbox.splice(0);
  taking = [];
  for (const t of done) {
    const error = failed ?? t.error;
    t.port.postMessage(
      (error !== undefined
        ? { seq: t.m.seq, error }
        : { seq: t.m.seq, turn: turns, ...(t.ids ? { ids: t.ids } : {}) }) satisfies WriterReply,
    );
  }
  // Ingest left over for the next turn (fair share): it comes after this poll phase's outcomes.
  if (inbox.length > 0 && !scheduled) {
    scheduled = true;
    setImmediate(runTurn);
  }
}
