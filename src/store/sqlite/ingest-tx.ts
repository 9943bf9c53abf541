/**
 * The ingest transaction: each item's record (or quarantine row), its MQTT QoS 2 packet id and
 * its outbox rows, many items in one transaction (group commit, ingest/committer.ts). Shared by
 * the store's own connection and the writer thread's (ingest-writer.ts), so both write the same.
 */
import type Database from 'better-sqlite3';
import type { IngestItem } from '../types.js';
import type { Projection } from '../../record.js';
import type { ShapedProjection } from '../outbox/shapes.js';
import { sqliteRecords } from '../records/sqlite.js';
import { sqliteOutbox } from '../outbox/sqlite.js';
import { sqliteMqttQos2 } from '../mqtt-qos2/sqlite.js';
import { writeLock, type WriteLock } from './write-lock.js';

/** How long a connection waits for the write lock, in this process (write-lock.ts) and in SQLite. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens a connection with the pragmas every connection to the store file uses, and the one
 * transaction discipline they all follow (`takeTurns`).
 */
export function openConnection(file: string, DatabaseCtor: typeof Database): Database.Database {
  const db = new DatabaseCtor(file);
  db.pragma('secure_delete = ON');
  db.pragma('journal_mode = WAL');
  // A commit that returned is on disk: that is what a PUBACK promises the car.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  takeTurns(db, writeLock(file, BUSY_TIMEOUT_MS));
  return db;
}

/**
 * How a connection writes, with other threads of this process writing the same file:
 *
 * - Every `db.transaction(fn)` MUST begin IMMEDIATE (takes SQLite's write lock first, waiting
 *   for it under busy_timeout), whichever variant is called, except `.exclusive`. A deferred
 *   transaction that reads and then writes would fail with SQLITE_BUSY at once as soon as
 *   another connection committed in between, without waiting.
 * - Every top-level transaction, and every writing statement outside one, MUST run holding this
 *   process's write lock for the file (write-lock.ts), so the threads take turns. Inside a
 *   transaction nothing more is taken (the transaction holds it; a nested one is a savepoint).
 */
function takeTurns(db: Database.Database, lock: WriteLock): void {
  const held =
    <A extends unknown[], R>(f: (...args: A) => R) =>
    (...args: A): R =>
      db.inTransaction ? f(...args) : lock.hold(() => f(...args));

  const make = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const tx = make(fn);
    const immediate = held(tx.immediate);
    return Object.assign(immediate, {
      default: immediate,
      deferred: immediate,
      immediate,
      exclusive: held(tx.exclusive),
    });
  }) as typeof db.transaction;

  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const st = prepare(sql);
    if (st.readonly) return st;
    // A writing statement (RETURNING ones read too) auto-commits when run outside a transaction.
    st.run = held(st.run.bind(st));
    if (st.reader) {
      st.get = held(st.get.bind(st));
      st.all = held(st.all.bind(st));
    }
    return st;
  }) as typeof db.prepare;
}

export function ingestTransaction(
  db: Database.Database,
  parts: {
    records: Pick<ReturnType<typeof sqliteRecords>, 'write' | 'indexVinsIfDue'>;
    outbox: Pick<ReturnType<typeof sqliteOutbox>, 'insert'>;
    qos2: Pick<ReturnType<typeof sqliteMqttQos2>, 'write'>;
  } = { records: sqliteRecords(db), outbox: sqliteOutbox(db), qos2: sqliteMqttQos2(db) },
): Database.Transaction<(items: readonly IngestItem<Projection | ShapedProjection>[]) => void> {
  return db.transaction((items: readonly IngestItem<Projection | ShapedProjection>[]) => {
    for (const it of items) {
      parts.records.write(it);
      parts.qos2.write(it);
      if (it.kind === 'record')
        for (const p of it.projections) parts.outbox.insert(p, it.record.receivedAt, it.traceParent ?? null);
    }
    parts.records.indexVinsIfDue();
  });
}
