/**
 * A read-only snapshot on a connection opened by `openConnection` (ingest-tx.ts). There, every
 * `db.transaction` begins IMMEDIATE and holds this process's write lock: right for writers, wrong
 * for a reader that only wants several SELECTs to see one state of the file. It would stop the
 * writer thread (every ingest commit and settlement) for as long as it reads.
 *
 * In WAL mode a DEFERRED transaction that only reads takes no write lock at all, and it sees the
 * file as of its first read while writers go on. `fn` MUST NOT write: a write inside would try to
 * upgrade the snapshot and fail with SQLITE_BUSY if a writer committed meanwhile.
 */
import type Database from 'better-sqlite3';

export function readSnapshot<A extends unknown[], R>(db: Database.Database, fn: (...args: A) => R): (...args: A) => R {
  const begin = db.prepare('BEGIN DEFERRED');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  return (...args: A): R => {
    if (db.inTransaction) return fn(...args); // already inside one: that transaction is the snapshot
    begin.run();
    try {
      const out = fn(...args);
      commit.run();
      return out;
    } catch (err) {
      if (db.inTransaction) rollback.run();
      throw err;
    }
  };
}
