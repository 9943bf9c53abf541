/**
 * The SQLite writer thread's fair share (ingest-writer.worker.ts): a turn takes every queued
 * outcome but ingest only up to a bound, so under full ingest an outcome waits for one bounded
 * turn, not for the whole ingest backlog; and how busy the thread is, counted.
 */
import { afterAll, describe, expect, it } from 'vitest';
// eslint-disable-next-line no-restricted-imports -- one store commit in a child process
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { record, projection, item, entry, T0 } from './backends.js';
import type { EgressSettlement, Store } from '../../src/store/types.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { ingestWriterThread } from '../../src/store/sqlite/ingest-writer.js';
import { writeLock } from '../../src/store/sqlite/write-lock.js';

describe('SQLite writer thread › fair share of a turn', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shk-writer-share-'));
    dirs.push(dir);
    return dir;
  };
  const burst = (n: number) =>
    Array.from({ length: n }, () => record({ receivedAt: T0 + 10 })).map((r) =>
      item(r, [projection(r, { vehicle: 'w' })]),
    );

  it('commits outcomes in the next turn while ingest commits beyond the bound stay queued', async () => {
    const file = path.join(tempDir(), 'shekara.db');
    const store = openSqliteStore(file); // migrates the file
    stores.push(store);
    const seed = Array.from({ length: 3 }, () => record({ receivedAt: T0 }));
    await store.commitIngest(seed.map((r, i) => item(r, [projection(r, { vehicle: `s${i}` })])));
    const rows = await store.dueOutboxHeads(T0 + 1, 10);
    const outcomes: EgressSettlement[] = rows.map((row) => ({
      kind: 'delivered',
      outboxId: row.id,
      entry: entry(row),
    }));

    const writer = ingestWriterThread(file, { ingestRecordsPerTurn: 5 });
    let handed: Promise<number>[] = [];
    // Another thread holds the write lock while three ingest commits and then the outcomes are
    // handed over, as under full ingest: all four are queued when the writer's turn begins.
    writeLock(file, 5_000).hold(() => {
      handed = [writer.commit(burst(5)), writer.commit(burst(5)), writer.commit(burst(5)), writer.settle(outcomes)];
    });
    const [first, second, third, settled] = await Promise.all(handed);
    // The outcomes, handed over last, share the first turn; the ingest beyond the bound waits.
    expect(settled).toBe(first);
    expect([second! - first!, third! - first!]).toEqual([1, 2]);
    expect(await store.counts()).toMatchObject({ records: 3 + 15, egressLog: 3 });

    const stats = writer.stats();
    expect(stats.turns).toBe(3);
    expect(stats.busySeconds).toBeGreaterThan(0);
    expect(stats.lockWaitSeconds).toBeGreaterThan(0); // it waited for the lock held above
    await writer.close();
  });

  it('commits every ingest commit handed over before close, however many turns they take', async () => {
    const file = path.join(tempDir(), 'shekara.db');
    const store = openSqliteStore(file);
    stores.push(store);
    await store.commitIngest(burst(1)); // migrated, and the store's own thread started
    const writer = ingestWriterThread(file, { ingestRecordsPerTurn: 5 });
    let handed: Promise<number>[] = [];
    let closed: Promise<void> = Promise.resolve();
    writeLock(file, 5_000).hold(() => {
      handed = [writer.commit(burst(5)), writer.commit(burst(5)), writer.commit(burst(5))];
      closed = writer.close(); // queued behind them, though they need three turns
    });
    expect((await Promise.allSettled(handed)).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    await closed;
    expect((await store.counts()).records).toBe(1 + 15);
  });

  it('profiles the writer thread into its own file when the process runs with --cpu-prof', () => {
    const dir = tempDir();
    const profiles = path.join(dir, 'profiles');
    const file = path.join(dir, 'shekara.db');
    const script = `
      const { openSqliteStore } = await import(${JSON.stringify(new URL('../../src/store/sqlite/index.ts', import.meta.url).href)});
      const store = openSqliteStore(${JSON.stringify(file)});
      const raw = Buffer.from('not json');
      await store.commitIngest([{ kind: 'quarantine', item: { id: 'q1', vin: 'LSHKZ000000000001', channel: 'mqtt', receivedAt: 1, reason: 'bad', raw } }]);
      await store.close();`;
    execFileSync(
      process.execPath,
      ['--cpu-prof', `--cpu-prof-dir=${profiles}`, '--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: 'pipe',
      },
    );
    // Among the profiles (the main thread's, module loader threads'), one of the writer thread.
    const urls = readdirSync(profiles)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map(
        (f) => JSON.parse(readFileSync(path.join(profiles, f), 'utf8')) as { nodes: { callFrame: { url: string } }[] },
      )
      .map((p) => p.nodes.map((n) => n.callFrame.url).join(' '));
    expect(urls.filter((u) => u.includes('ingest-writer.worker'))).toHaveLength(1);
  });
});
