import { describe, expect, it } from 'vitest';
import { createCommitter } from '../../src/ingest/committer.js';
import type { IngestItem } from '../../src/store/index.js';

const item = (id: string): IngestItem => ({
  kind: 'quarantine',
  item: { id, vin: 'V', channel: 'mqtt', receivedAt: 0, reason: 'r', raw: Buffer.alloc(0) },
});
const idOf = (i: IngestItem) => (i.kind === 'quarantine' ? i.item.id : i.record.id);

/** A store that records each transaction and refuses (rejects) any transaction holding the poison id. */
function fakeStore(poison?: string) {
  const commits: string[][] = [];
  return {
    commits,
    async commitIngest(items: readonly IngestItem[]) {
      if (items.some((i) => idOf(i) === poison)) throw new Error('constraint failed');
      commits.push(items.map(idOf));
    },
  };
}

/** A store whose commits wait until the gate opens; `started` lists each commit as it begins. */
function gatedStore() {
  const commits: string[][] = [];
  const started: string[][] = [];
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return {
    commits,
    started,
    openGate: () => open(),
    async commitIngest(items: readonly IngestItem[]) {
      started.push(items.map(idOf));
      await gate;
      commits.push(items.map(idOf));
    },
  };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
}

describe('group commit', () => {
  it('writes everything submitted in one event-loop turn in one transaction', async () => {
    const store = fakeStore();
    const c = createCommitter(store, { maxBatch: 100, maxPending: 1000 }, () => undefined);
    await Promise.all(['a', 'b', 'c'].map((id) => c.submit(item(id))));
    expect(store.commits).toEqual([['a', 'b', 'c']]);
  });

  it('splits at maxBatch', async () => {
    const store = fakeStore();
    const c = createCommitter(store, { maxBatch: 2, maxPending: 1000 }, () => undefined);
    await Promise.all(['a', 'b', 'c'].map((id) => c.submit(item(id))));
    expect(store.commits).toEqual([['a', 'b'], ['c']]);
  });

  it('resolves a submission only after its transaction resolved', async () => {
    const store = fakeStore();
    const c = createCommitter(store, { maxBatch: 10, maxPending: 10 }, () => undefined);
    let resolvedBeforeCommit = false;
    const p = c.submit(item('a')).then(() => {
      resolvedBeforeCommit = store.commits.length === 0;
    });
    await p;
    expect(resolvedBeforeCommit).toBe(false);
  });

  it('refuses only the item that fails on its own; its neighbours are committed', async () => {
    const store = fakeStore('bad');
    const c = createCommitter(store, { maxBatch: 100, maxPending: 1000 }, () => undefined);
    const results = await Promise.allSettled(['a', 'bad', 'c'].map((id) => c.submit(item(id))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.code).toBe('SHK_INGEST_STORE');
    expect(store.commits).toEqual([['a'], ['c']]);
  });

  it('keeps one commit in flight: what is submitted meanwhile goes, together, in the next one', async () => {
    const commits: string[][] = [];
    const release: (() => void)[] = [];
    const slow = {
      commitIngest: (items: readonly IngestItem[]) =>
        new Promise<void>((resolve) => {
          commits.push(items.map(idOf));
          release.push(resolve);
        }),
    };
    const c = createCommitter(slow, { maxBatch: 100, maxPending: 1000 }, () => undefined);
    const first = c.submit(item('a'));
    await new Promise((r) => setImmediate(r));
    expect(commits).toEqual([['a']]);
    const later = ['b', 'c'].map((id) => c.submit(item(id)));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(commits).toEqual([['a']]); // b and c wait for a's commit
    release.shift()!();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(commits).toEqual([['a'], ['b', 'c']]);
    release.shift()!();
    await Promise.all(later);
  });

  it('lets a caller that can wait stand in line: committed once room frees, in arrival order', async () => {
    // Before: `submit` refused at once and the intake polled every 50 ms, each poll a new error
    // with a stack — ~2 million a second under overload (docs/benchmarks.md, overload).
    const store = gatedStore();
    const c = createCommitter(store, { maxBatch: 2, maxPending: 2 }, () => undefined);
    const wait = { afterMs: 5, again: () => true };
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => c.submit(item(id), wait));
    await until(() => store.started.length === 1);
    expect(c.waiting).toBe(3);
    store.openGate();
    await Promise.all(all);
    expect(store.commits.flat()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(c.waiting).toBe(0);
  });

  it('puts a waiting caller behind those already waiting, even when room has just freed', async () => {
    let saturated = true;
    const store = fakeStore();
    const c = createCommitter(store, { maxBatch: 10, maxPending: 10, saturated: () => saturated }, () => undefined);
    const wait = { afterMs: 5, again: () => true };
    const first = c.submit(item('first'), wait);
    expect(c.waiting).toBe(1);
    saturated = false;
    const second = c.submit(item('second'), wait);
    await Promise.all([first, second]);
    expect(store.commits.flat()).toEqual(['first', 'second']);
  });

  it('pushes a waiter back, storing nothing of it, once it stops waiting', async () => {
    const store = fakeStore();
    const c = createCommitter(store, { maxBatch: 10, maxPending: 10, saturated: () => true }, () => undefined);
    let connected = true;
    const p = c.submit(item('a'), { afterMs: 1, again: () => connected });
    connected = false;
    await expect(p).rejects.toMatchObject({
      code: 'SHK_INGEST_BACKPRESSURE',
      details: { cause: 'SHK_EGRESS_SATURATED' },
    });
    expect(store.commits).toEqual([]);
    expect(c.waiting).toBe(0);
  });

  it('pushes back with a retriable error when too many records wait', async () => {
    const c = createCommitter(fakeStore(), { maxBatch: 10, maxPending: 2 }, () => undefined);
    const first = [c.submit(item('a')), c.submit(item('b'))];
    await expect(c.submit(item('c'))).rejects.toMatchObject({ code: 'SHK_INGEST_BACKPRESSURE', retriable: true });
    await Promise.all(first);
  });
});
