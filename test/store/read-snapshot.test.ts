/**
 * The local queue's read of due vehicles with their chains (`dueOutboxHeads` with perVehicle > 1)
 * is one snapshot of several SELECTs. It MUST NOT take the write lock: it ran as an IMMEDIATE
 * transaction, so every read by the egress thread stopped the writer thread (ingest commits and
 * settlements) for as long as it lasted, and a reader met a busy writer as SQLITE_BUSY.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { item, projection, record, T0, VIN1 } from './backends.js';

describe('SQLite: due vehicles with their chains', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-read-snapshot-'));
  const file = path.join(dir, 'shekara.db');
  const store = openSqliteStore(file);
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are read while another connection holds the write lock, as one snapshot', async () => {
    const recs = [1, 2, 3].map((i) => record({ vin: VIN1, receivedAt: T0 + i }));
    await store.commitIngest(recs.map((r) => item(r, [projection(r, { vehicle: 'v1' })])));

    // Another process (a CLI, a second writer) in the middle of a write transaction.
    const other = new Database(file);
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN IMMEDIATE');
    try {
      const due = await store.dueOutboxHeads(T0 + 10, 10, 5);
      expect(due.map((r) => r.recordId)).toEqual(recs.map((r) => r.id));
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });
});
