/**
 * The embedded local queue reads the outbox's due heads in refills, not once per finished
 * delivery (src/egress/local-queue.ts). Unit test of the queue alone: the store is an in-memory
 * stand-in that answers as the SQLite one does (each vehicle's oldest undelivered row, in id
 * order); the real store and OEM are covered by the egress e2e tests.
 */
import { describe, expect, it } from 'vitest';
import { startLocalQueue } from '../../src/egress/local-queue.js';
import type { OutboxRow } from '../../src/store/index.js';
import type { AttemptOutcome } from '../../src/egress/chain.js';
import { createLogger } from '../../src/log.js';

const VEHICLES = 40;
const PER_VEHICLE = 5;
const CONCURRENCY = 16;

describe('local egress queue', () => {
  it('delivers every row in each vehicle’s order, reading the due heads once per refill, not per delivery', async () => {
    const rows: OutboxRow[] = [];
    for (let i = 0; i < VEHICLES * PER_VEHICLE; i++)
      rows.push({ id: i + 1, pseudonym: `p${i % VEHICLES}`, oem: 'acme', recordId: `r${i + 1}` } as OutboxRow);
    const done = new Set<number>();
    let reads = 0;
    const store = {
      async dueOutboxHeads(_now: number, limit: number) {
        reads += 1;
        const seen = new Set<string>();
        const heads: OutboxRow[] = [];
        for (const r of rows) {
          if (done.has(r.id) || seen.has(r.pseudonym)) continue;
          seen.add(r.pseudonym);
          heads.push(r);
          if (heads.length === limit) break;
        }
        return heads;
      },
      leaseDueOutbox: () => Promise.reject(new Error('not shared')),
      nextDueAt: async () => (done.size < rows.length ? Date.now() + 60_000 : undefined),
    };
    const order = new Map<string, number[]>();
    let allDone!: () => void;
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    // Deliveries finish one at a time, each in its own turn of the event loop (as answers from
    // an OEM under load do), so nothing coalesces the reads but the queue itself.
    let chain = Promise.resolve();
    const worker = (row: OutboxRow): Promise<AttemptOutcome> => {
      const answered = chain.then(() => new Promise<void>((r) => setTimeout(r, 1)));
      chain = answered;
      return answered.then(() => ({ kind: 'delivered', outboxId: row.id, entry: {} }) as unknown as AttemptOutcome);
    };
    const settler = {
      async settle(o: { outboxId: number }) {
        const row = rows[o.outboxId - 1]!;
        done.add(row.id);
        order.set(row.pseudonym, [...(order.get(row.pseudonym) ?? []), row.id]);
        if (done.size === rows.length) allDone();
      },
    };
    const queue = startLocalQueue(
      { concurrency: CONCURRENCY, pollIntervalMs: 50, requestTimeoutMs: 1_000, leaseMs: 30_000 },
      {
        store,
        worker,
        settler,
        log: createLogger('silent'),
        now: Date.now,
      } as unknown as Parameters<typeof startLocalQueue>[1],
    );
    await finished;
    await queue.close();

    expect(done.size).toBe(VEHICLES * PER_VEHICLE);
    for (const ids of order.values()) expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // One read per finished delivery before (~200); now one per quarter of the slots freed (~50).
    expect(reads).toBeLessThanOrEqual((VEHICLES * PER_VEHICLE) / (CONCURRENCY / 4) + 10);
  });
});
