/**
 * The writer thread's body (ingest-writer.ts): one connection, one transaction per turn.
 *
 * Requests arrive on the parent port (the owning store: ingest commits, the pull feed's
 * settlements) and on the ports of other stores of this process (the egress thread's:
 * settlements, the Kafka relay's marks). A turn takes the write lock, then takes every request
 * queued on any port by then (so what arrived while it waited for the lock joins it), applies
 * each in a savepoint of one transaction, commits once (one fsync) and answers each request on
 * its own port, in order. Nothing is answered before the commit returned.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { IngestItem } from '../types.js';
import { ingestTransaction, openConnection } from './ingest-tx.js';
import type { WriterMessage, WriterReply, WriterRequest } from './ingest-writer.js';
import { sqliteOutbox, sqliteEgressQueue } from '../outbox/sqlite.js';
import { sqliteAudit } from '../audit/sqlite.js';
import { sqliteEgressLog } from '../egress-log/sqlite.js';
import { parkStatement } from '../oem-feed/sqlite.js';

const db = openConnection((workerData as { file: string }).file, Database);
const ingest = ingestTransaction(db);
// The same settle and mark transactions as the store's own connection runs (index.ts).
const { settleLogged } = sqliteEgressLog(db, sqliteOutbox(db), sqliteAudit(db));
const egress = sqliteEgressQueue(db, { settleLogged }, parkStatement(db));

/** A Buffer crosses a thread as a Uint8Array; the store binds Buffers. */
const buf = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const revive = (it: IngestItem): IngestItem =>
  it.kind === 'record' ? { ...it, raw: buf(it.raw) } : { ...it, item: { ...it.item, raw: buf(it.item.raw) } };

interface Taken {
  readonly port: MessagePort;
  readonly m: WriterRequest;
  error?: string;
}

const parent = parentPort!;
const ports = new Set<MessagePort>([parent]);
let inbox: Taken[] = [];
let taking: Taken[] = [];
let scheduled = false;
let turns = 0;

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

const apply = (m: WriterRequest): void => {
  if (m.items.length > 0) ingest(m.items.map(revive));
  if (m.settle && m.settle.length > 0) egress.settleOutbox(m.settle);
  if (m.published && m.published.length > 0) egress.markPublished(m.published);
};

const message = (err: unknown) => (err as Error)?.message ?? String(err);

// BEGIN IMMEDIATE (openConnection): the write lock is taken first, then the requests.
const turn = db.transaction(() => {
  takeQueued();
  taking = inbox;
  inbox = [];
  for (const t of taking) {
    try {
      apply(t.m); // nested transactions: each request in its own savepoint
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
  try {
    turn();
    turns += 1;
  } catch (err) {
    failed = message(err);
  }
  // Failed before it took the queue (the lock or BEGIN): what waited in the inbox failed with it.
  const done = taking.length > 0 || inbox.length === 0 ? taking : inbox.splice(0);
  taking = [];
  for (const t of done) {
    const error = failed ?? t.error;
    t.port.postMessage(
      (error === undefined ? { seq: t.m.seq, turn: turns } : { seq: t.m.seq, error }) satisfies WriterReply,
    );
  }
}
