/**
 * At most ONE process delivers from one SQLite file (docs/egress.md "Egress gets its share").
 * On SQLite the local queue leases rows in memory (src/egress/local-queue.ts: a lease written
 * to the store would cost an fsync per delivery), so a second delivering process picks the same
 * due rows as the first: measured with one `--role ingest` and two `--role egress` on one file,
 * 38 % of projections reached the OEM twice, some after a newer record of the same car, and
 * nothing was logged (the settle drops the second outcome). This lock refuses the second one.
 *
 * Why an OS lock, not a lease row with a heartbeat: a process killed with -9 leaves a row that
 * keeps the next one out until it expires, while the kernel drops a dead process's locks at once.
 * The lock is SQLite's own (fcntl byte-range locks, which SQLite also keeps apart between two
 * connections of one process): a RESERVED lock, taken by `BEGIN IMMEDIATE` on a side file
 * `<store>.delivery-lock` and held by a transaction left open until `release()`. Nothing is ever
 * written to that file. A second process (or a second app in this one) gets SQLITE_BUSY at once.
 *
 * Who holds it is written beside it, `<store>.delivery-lock.json` (pid, host, since), by the
 * holder only, after taking the lock, through a rename: the refused process names the holder.
 * A holder that crashed leaves that file behind; the next holder overwrites it.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { ShekaraError } from '../../errors.js';
import { makePrivate, PRIVATE_FILE_MODE } from '../../keys/private-dir.js';

export interface DeliveryLock {
  /** Lets another process deliver from the file. Idempotent. */
  release(): void;
}

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/**
 * Takes the delivery lock of the SQLite store `file` (an absolute path, not ':memory:'), or
 * throws SHK_EGRESS_DELIVERING_ELSEWHERE naming the file and, when known, the holder.
 */
export function holdDeliveryLock(file: string): DeliveryLock {
  const lockFile = `${file}.delivery-lock`;
  const holderFile = `${lockFile}.json`;
  // timeout 0: a held lock is an answer, not something to wait for.
  const db = new Database(lockFile, { timeout: 0 });
  try {
    makePrivate(lockFile);
    // No journal file: nothing is written, and a killed holder leaves no hot journal behind.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    throw new ShekaraError(
      'SHK_EGRESS_DELIVERING_ELSEWHERE',
      `another process already delivers from the SQLite store ${file}${describe(readHolder(holderFile))}: ` +
        'at most one process may deliver from one SQLite file (its outbox leases are in memory). ' +
        'Start this one with --role ingest, stop the other, or run the roles on PostgreSQL (docs/egress.md)',
      { details: { file, lockFile, holder: readHolder(holderFile) } },
    );
  }
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const tmp = `${holderFile}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(me) + '\n', { mode: PRIVATE_FILE_MODE });
  renameSync(tmp, holderFile);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      // Closing the connection ends the open transaction, and with it the lock.
      db.close();
    },
  };
}

function readHolder(holderFile: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(holderFile, 'utf8')) as Partial<Holder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.since === 'string'
      ? { pid: h.pid, host: h.host, since: h.since }
      : undefined;
  } catch {
    // Not written yet (the holder took the lock a moment ago) or unreadable: the holder is unknown.
    return undefined;
  }
}

const describe = (h: Holder | undefined) => (h ? ` (pid ${h.pid} on host ${h.host}, since ${h.since})` : '');
