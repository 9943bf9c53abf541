/** The ingest writer thread's body (ingest-writer.ts): one connection, one commit per message. */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { IngestItem } from '../types.js';
import { ingestTransaction, openConnection } from './ingest-tx.js';
import type { WriterReply, WriterRequest } from './ingest-writer.js';

const db = openConnection((workerData as { file: string }).file, Database);
const commit = ingestTransaction(db);

/** A Buffer crosses a thread as a Uint8Array; the store binds Buffers. */
const buf = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const revive = (it: IngestItem): IngestItem =>
  it.kind === 'record' ? { ...it, raw: buf(it.raw) } : { ...it, item: { ...it.item, raw: buf(it.item.raw) } };

parentPort!.on('message', (m: WriterRequest) => {
  let reply: WriterReply;
  try {
    // BEGIN IMMEDIATE: take the write lock first, never upgrade a read lock under contention.
    if (m.items.length > 0) commit.immediate(m.items.map(revive));
    reply = { seq: m.seq };
  } catch (err) {
    reply = { seq: m.seq, error: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
