/**
 * The SQLite outbox finds each vehicle's head of queue by reading pending rows in id order
 * (src/store/outbox/heads.ts), with no index keyed by vehicle: such an index over pending rows
 * cost the writer one random page per car per commit. What the egress queue sees stays what the
 * contract says (test/store/conformance.test.ts on both backends): only heads are due, a head
 * waiting on a retry holds back its vehicle's rows, chains are consecutive and end before a
 * leased row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { dueChains, HEADS_WINDOW, type PendingKey } from '../../src/store/outbox/heads.js';
import type { Store } from '../../src/store/index.js';
import { T0, entry, item, projection, record } from './backends.js';

const dirs: string[] = [];
const newFile = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-outbox-heads-'));
  dirs.push(dir);
  return path.join(dir, 'shekara.db');
};
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Pending rows in id order, read a window at a time as the store does; counts the rows read. */
function pending(rows: PendingKey[]) {
  const read = { rows: 0 };
  const window = (after: number, n: number) => {
    const w = rows.filter((r) => r[0] > after).slice(0, n);
    read.rows += w.length;
    return w;
  };
  return { window, read };
}
const row = (id: number, vehicle: string, next = T0, lease = 0): PendingKey => [id, `acme\n${vehicle}`, next, lease];
const ids = (chains: { ids: number[] }[]) => chains.map((c) => c.ids);

describe('outbox heads in id order', () => {
  it('takes the first pending row of each vehicle as its head, and the rows right behind it as its chain', () => {
    const { window } = pending([row(1, 'a'), row(2, 'b'), row(3, 'a'), row(4, 'c'), row(5, 'a'), row(6, 'b')]);
    expect(ids(dueChains(window, T0, 10, 1))).toEqual([[1], [2], [4]]);
    expect(ids(dueChains(window, T0, 10, 2))).toEqual([[1, 3], [2, 6], [4]]);
    expect(ids(dueChains(window, T0, 1, 10))).toEqual([[1, 3, 5]]); // limit counts vehicles
  });

  it('holds a vehicle back whole behind a head not due, though the rows behind it are due themselves', () => {
    const { window } = pending([row(1, 'a', T0 + 5_000), row(2, 'b'), row(3, 'a'), row(4, 'b')]);
    expect(ids(dueChains(window, T0, 10, 3))).toEqual([[2, 4]]);
    expect(ids(dueChains(window, T0 + 5_000, 10, 3))).toEqual([
      [2, 4],
      [1, 3],
    ]); // soonest due first
  });

  it('ends a chain before a row leased by someone else, and never hands out a leased head', () => {
    const { window } = pending([
      row(1, 'a'),
      row(2, 'a', T0, T0 + 1),
      row(3, 'a'),
      row(4, 'b', T0, T0 + 1),
      row(5, 'b'),
    ]);
    expect(ids(dueChains(window, T0, 10, 5))).toEqual([[1]]);
  });

  it('orders heads soonest due first, then by id', () => {
    const { window } = pending([row(1, 'a', T0 - 1), row(2, 'b', T0 - 9), row(3, 'c', T0 - 9)]);
    expect(ids(dueChains(window, T0, 10, 1))).toEqual([[2], [3], [1]]);
  });

  it('reads past any number of held-back rows to the vehicles behind them, a window at a time', () => {
    // v0's head waits on a retry; three windows of its rows lie between it and the next vehicle.
    const blocked = [
      row(1, 'v0', T0 + 60_000),
      ...Array.from({ length: 3 * HEADS_WINDOW.max }, (_, i) => row(i + 2, 'v0')),
    ];
    const { window, read } = pending([...blocked, row(100_000, 'late')]);
    expect(ids(dueChains(window, T0, 10, 1))).toEqual([[100_000]]);
    expect(read.rows).toBe(blocked.length + 1);
  });

  it('stops reading once the heads are found and their chains are full', () => {
    const { window, read } = pending(Array.from({ length: 5 * HEADS_WINDOW.max }, (_, i) => row(i + 1, `v${i % 100}`)));
    expect(ids(dueChains(window, T0, 3, 2))).toEqual([
      [1, 101],
      [2, 102],
      [3, 103],
    ]);
    expect(read.rows).toBe(HEADS_WINDOW.first);
  });
  it('fills the chains of vehicles whose rows are interleaved with many others', () => {
    const { window } = pending(Array.from({ length: 2_000 }, (_, i) => row(i + 1, `v${i % 100}`)));
    const chains = dueChains(window, T0, 2, 10);
    expect(ids(chains)).toEqual([1, 2].map((first) => Array.from({ length: 10 }, (_, k) => first + 100 * k)));
  });
});

describe('SQLite outbox without an index keyed by vehicle', () => {
  it('has no index over pending outbox rows by (OEM, pseudonym)', async () => {
    const file = newFile();
    await (await openSqliteStore(file)).close();
    const db = new Database(file, { readonly: true });
    try {
      const byVehicle = (db.pragma('index_list(egress_outbox)') as { name: string }[])
        .map((ix) => ix.name)
        .filter((name) => (db.pragma(`index_info(${name})`) as { name: string }[]).some((c) => c.name === 'pseudonym'));
      expect(byVehicle).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('delivers each vehicle in order past a long held-back queue, a retry holding its followers', async () => {
    const store = openSqliteStore(newFile());
    stores.push(store);
    // Vehicle 'slow': more pending rows than one window, committed first; then 'fast' and 'other'.
    const slow = Array.from({ length: HEADS_WINDOW.max + 50 }, () => record({ receivedAt: T0 }));
    await store.commitIngest(slow.map((r) => item(r, [projection(r, { vehicle: 'slow' })])));
    const later = Array.from({ length: 6 }, () => record({ receivedAt: T0 }));
    const vehicleOf = (i: number) => (i % 2 === 0 ? 'fast' : 'other');
    await store.commitIngest(later.map((r, i) => item(r, [projection(r, { vehicle: vehicleOf(i) })])));

    // slow's head fails: due again in a minute, its followers with it.
    const [head] = await store.dueOutboxHeads(T0, 1);
    expect(head!.recordId).toBe(slow[0]!.id);
    await store.settleOutbox([
      { kind: 'failed', outboxId: head!.id, entry: entry(head!, { outcome: 'failed' }), nextAttemptAt: T0 + 60_000 },
    ]);

    // Each vehicle's rows, taken head by head and settled delivered, come out in their order.
    const sent: string[] = [];
    for (let turn = 0; turn < 10; turn++) {
      const rows = await store.dueOutboxHeads(T0 + 1, 10, 2);
      if (rows.length === 0) break;
      expect(rows.every((r) => r.pseudonym !== 'slow')).toBe(true);
      sent.push(...rows.map((r) => r.recordId));
      await store.settleOutbox(rows.map((r) => ({ kind: 'delivered' as const, outboxId: r.id, entry: entry(r) })));
    }
    const order = (v: string) => later.filter((_, i) => vehicleOf(i) === v).map((r) => r.id);
    expect(sent.filter((id) => order('fast').includes(id))).toEqual(order('fast'));
    expect(sent.filter((id) => order('other').includes(id))).toEqual(order('other'));
    expect(sent).toHaveLength(later.length);

    // When the retry is due, slow's head goes first, then the rows behind it in order.
    const again = await store.dueOutboxHeads(T0 + 60_000, 10, 3);
    expect(again.map((r) => r.recordId)).toEqual(slow.slice(0, 3).map((r) => r.id));
  });
});
