/** The writer thread's body (ingest-writer.ts): one connection, one commit per message. */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { IngestItem } from '../types.js';
import { ingestTransaction, openConnection } from './ingest-tx.js';
import type { WriterReply, WriterRequest } from './ingest-writer.js';
import { sqliteOutbox, sqliteEgressQueue } from '../outbox/sqlite.js';
import { sqliteAudit } from '../audit/sqlite.js';
import { sqliteEgressLog } from '../egress-log/sqlite.js';
import { parkStatement } from '../oem-feed/sqlite.js';

const db = openConnection((workerData as { file: string }).file, Database);
const commit = ingestTransaction(db);

/** The same settle and mark transactions as the store's own connection runs (index.ts), made on first use. */
let queue: Pick<ReturnType<typeof sqliteEgressQueue>, 'settleOutbox' | 'markPublished'> | undefined;
const egressQueue = () => {
  if (!queue) {
    const { settleLogged } = sqliteEgressLog(db, sqliteOutbox(db), sqliteAudit(db));
    queue = sqliteEgressQueue(db, { settleLogged }, parkStatement(db));
  }
  return queue;
};

/** A Buffer crosses a thread as a Uint8Array; the store binds Buffers. */
const buf = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const revive = (it: IngestItem): IngestItem =>
  it.kind === 'record' ? { ...it, raw: buf(it.raw) } : { ...it, item: { ...it.item, raw: buf(it.item.raw) } };

parentPort!.on('message', (m: WriterRequest) => {
  let reply: WriterReply;
  try {
    // BEGIN IMMEDIATE (openConnection): the write lock first, never a read lock upgraded under contention.
    if (m.items.length > 0) commit(m.items.map(revive));
    if (m.settle && m.settle.length > 0) egressQueue().settleOutbox(m.settle);
    if (m.published && m.published.length > 0) egressQueue().markPublished(m.published);
    reply = { seq: m.seq };
  } catch (err) {
    reply = { seq: m.seq, error: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
