/**
 * The ingest transaction: each item's record (or quarantine row), its MQTT QoS 2 packet id and
 * its outbox rows, many items in one transaction (group commit, ingest/committer.ts). Shared by
 * the store's own connection and the writer thread's (ingest-writer.ts), so both write the same.
 */
import type Database from 'better-sqlite3';
import type { IngestItem } from '../types.js';
import { sqliteRecords } from './records.js';
import { sqliteOutbox } from './outbox.js';
import { sqliteMqttQos2 } from '../mqtt-qos2/sqlite.js';

/** Opens a connection with the pragmas every connection to the store file uses. */
export function openConnection(file: string, DatabaseCtor: typeof Database): Database.Database {
  const db = new DatabaseCtor(file);
  db.pragma('secure_delete = ON');
  db.pragma('journal_mode = WAL');
  // A commit that returned is on disk: that is what a PUBACK promises the car.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

export function ingestTransaction(
  db: Database.Database,
  parts: {
    records: Pick<ReturnType<typeof sqliteRecords>, 'write'>;
    outbox: Pick<ReturnType<typeof sqliteOutbox>, 'insert'>;
    qos2: Pick<ReturnType<typeof sqliteMqttQos2>, 'write'>;
  } = { records: sqliteRecords(db), outbox: sqliteOutbox(db), qos2: sqliteMqttQos2(db) },
): Database.Transaction<(items: readonly IngestItem[]) => void> {
  return db.transaction((items: readonly IngestItem[]) => {
    for (const it of items) {
      parts.records.write(it);
      parts.qos2.write(it);
      if (it.kind === 'record')
        for (const p of it.projections) parts.outbox.insert(p, it.record.receivedAt, it.traceParent ?? null);
    }
  });
}

/**
 * Makes every `db.transaction(fn)` of this connection begin IMMEDIATE (take the write lock
 * first, waiting for it under busy_timeout). With a second writer on the file (the ingest
 * writer thread), a deferred transaction that reads and then writes would fail with
 * SQLITE_BUSY as soon as the other writer committed in between, without waiting.
 */
export function immediateTransactions(db: Database.Database): void {
  const make = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const tx = make(fn);
    const immediate = tx.immediate;
    return Object.assign((...args: unknown[]) => immediate(...args), {
      default: immediate,
      deferred: tx.deferred,
      immediate,
      exclusive: tx.exclusive,
    });
  }) as typeof db.transaction;
}
