/**
 * How long an instance holds the outbox rows it took (`egress.leaseMs`): a crashed instance's
 * rows are due again after it. The config reaches the local queue's store lease, never below
 * 3 × requestTimeoutMs (a live instance's delivery and settle must finish inside its lease).
 * Unit test of the config and the queue alone; the crash e2e tests run instances on it.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { startLocalQueue } from '../../src/egress/local-queue.js';
import type { OutboxRow } from '../../src/store/index.js';
import { createLogger } from '../../src/log.js';
import { eventually } from '../helpers/wait.js';

const egressOf = (egress: Record<string, unknown>) =>
  parseConfig(stringify({ dataDir: '.', oems: [], egress }), 'shekara.yaml', '/nonexistent', { env: {} }).egress;

/** The lease the local queue on a shared outbox asks the store for, with this egress config. */
async function leaseAskedFor(egress: Record<string, unknown>): Promise<number> {
  const cfg = egressOf(egress);
  const asked: number[] = [];
  const store = {
    dueOutboxHeads: () => Promise.reject(new Error('shared: leased, not read')),
    async leaseDueOutbox(_now: number, _limit: number, leaseMs: number): Promise<OutboxRow[]> {
      asked.push(leaseMs);
      return [];
    },
    nextDueAt: async () => undefined,
  };
  const queue = startLocalQueue(cfg, {
    store,
    worker: () => Promise.reject(new Error('no rows')),
    settler: { settle: async () => undefined },
    log: createLogger('silent'),
    now: Date.now,
    sharedOutbox: true,
  } as unknown as Parameters<typeof startLocalQueue>[1]);
  queue.wake();
  try {
    return await eventually(() => asked[0], 5_000, 'a lease of the outbox');
  } finally {
    await queue.close();
  }
}

describe('egress.leaseMs', () => {
  it('is 30 s unless configured', () => {
    expect(egressOf({}).leaseMs).toBe(30_000);
  });

  it('is the lease a shared outbox is taken for', async () => {
    expect(await leaseAskedFor({ requestTimeoutMs: 2_000, leaseMs: 8_000 })).toBe(8_000);
    expect(await leaseAskedFor({})).toBe(30_000);
  });

  it('is never shorter than 3 request timeouts', async () => {
    expect(await leaseAskedFor({ requestTimeoutMs: 2_000, leaseMs: 1_000 })).toBe(6_000);
    expect(await leaseAskedFor({ requestTimeoutMs: 20_000 })).toBe(60_000);
  });
});
