/** The store module's one door: `createStore(cfg)` opens the configured backend. */
import path from 'node:path';
import type { StoreConfig } from '../config/schema.js';
import { openSqliteStore, sqliteFileOf, writerPortOf, writerStatsOf } from './sqlite/index.js';
import type { WriterLink } from './sqlite/ingest-writer.js';
import { describePgUrl } from './pg/url.js';
import type { Store } from './types.js';
import { openKeyRing, type KeysConfig } from '../keys/ring.js';
import { sealStore } from './sealed.js';
import { holdDeliveryLock, type DeliveryLock } from './sqlite/delivery-lock.js';

export type * from './types.js';
export { startRetentionSweep, type RetentionSweep } from './retention/sweep.js';
export { sqliteFileOf, writerPortOf, writerStatsOf, type WriterLink };

/**
 * `keys`: where the key file that seals the store's secrets lives (default `<dataDir>/keys`);
 * the store is returned with its secrets sealed (src/store/sealed.ts). `opts.writer` (SQLite):
 * commit through another thread's writer of the same file (`writerPortOf` that store).
 */
export async function createStore(
  cfg: StoreConfig,
  dataDir: string,
  keys?: KeysConfig,
  opts: { writer?: WriterLink } = {},
): Promise<Store> {
  const ring = openKeyRing(keys ?? { dir: path.resolve(dataDir, 'keys') });
  const store = await openBackend(cfg, dataDir, opts.writer);
  try {
    return await sealStore(store, ring);
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function openBackend(cfg: StoreConfig, dataDir: string, writer?: WriterLink): Promise<Store> {
  switch (cfg.kind) {
    case 'sqlite':
      return openSqliteStore(cfg.file === ':memory:' ? ':memory:' : path.resolve(dataDir, cfg.file), { writer });
    case 'postgres': {
      // Loaded only for a PostgreSQL store: the driver and its modules are about 0.1 CPU-s of
      // every CLI command and gateway start on SQLite (test/cli/cli-imports.test.ts).
      const { openPostgresStore } = await import('./pg/index.js');
      return openPostgresStore(cfg);
    }
  }
}

/**
 * Claims the right to deliver from the store, for a process that delivers (`--role egress` or
 * `all`); throws SHK_EGRESS_DELIVERING_ELSEWHERE when another process holds it. Only a SQLite
 * file has one (src/store/sqlite/delivery-lock.ts): PostgreSQL leases outbox rows in the store,
 * so any number of processes deliver from one schema; an in-memory store has no other process.
 */
export function claimDeliveries(cfg: StoreConfig, dataDir: string): DeliveryLock {
  if (cfg.kind !== 'sqlite' || cfg.file === ':memory:') return { release: () => undefined };
  return holdDeliveryLock(path.resolve(dataDir, cfg.file));
}

/** Where the store is, as it may be shown or logged: never a password. */
export function describeStore(cfg: StoreConfig, dataDir: string): string {
  switch (cfg.kind) {
    case 'sqlite':
      return cfg.file === ':memory:' ? '(in memory)' : path.resolve(dataDir, cfg.file);
    case 'postgres':
      return `${describePgUrl(cfg.url)} schema ${cfg.schema} (PostgreSQL)`;
  }
}
