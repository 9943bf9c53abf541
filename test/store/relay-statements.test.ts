/**
 * SQLite: the Kafka relay's statements on the writer thread. A relayed batch's `published` mark
 * runs in the writer's turn, between ingest's commits, so it is ONE statement for the whole
 * batch, not one per row; what it changes stays the same (only rows still pending, lease ended).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { record, projection, item, entry, T0 } from './backends.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { openConnection } from '../../src/store/sqlite/ingest-tx.js';
import { sqliteEgressQueue } from '../../src/store/outbox/sqlite.js';

describe('SQLite: the Kafka relay marks a batch published', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shk-relay-marks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('in ONE statement for the whole batch, marking only the rows still pending', async () => {
    const file = path.join(dir, 'shekara.db');
    const store = openSqliteStore(file);
    const recs = Array.from({ length: 40 }, () => record({ receivedAt: T0 }));
    await store.commitIngest(recs.map((r, i) => item(r, [projection(r, { vehicle: `v${i}` })])));
    const rows = await store.leaseUnpublished(T0 + 1, 100, 60_000);
    expect(rows).toHaveLength(40);
    // One of them was settled for good meanwhile: a mark MUST NOT reopen it as published.
    await store.settleOutbox([
      { kind: 'blocked', outboxId: rows[0]!.id, entry: entry(rows[0]!, { outcome: 'blocked' }) },
    ]);
    await store.close();

    // The writer's statements, as SQLite runs them (better-sqlite3 traces every statement executed).
    const ran: string[] = [];
    const db = openConnection(file, function traced(f: string) {
      return new Database(f, { verbose: (sql) => ran.push(String(sql)) });
    } as unknown as typeof Database);
    try {
      const queue = sqliteEgressQueue(db, { settleLogged: () => undefined }, () => undefined);
      ran.length = 0;
      queue.markPublished(rows.map((r) => r.id));
      expect(ran.filter((sql) => /^\s*UPDATE egress_outbox/.test(sql))).toHaveLength(1);
      const states = queue.outboxStates(rows.map((r) => r.id));
      expect(states.get(rows[0]!.id)?.status).toBe('blocked');
      expect(rows.slice(1).every((r) => states.get(r.id)?.status === 'published')).toBe(true);
      expect(
        db.prepare(`SELECT COUNT(*) FROM egress_outbox WHERE lease_until <> 0 AND status = 'published'`).pluck().get(),
      ).toBe(0);
    } finally {
      db.close();
    }
  });
});
