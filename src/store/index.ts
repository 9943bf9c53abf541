/** The store module's one door: `createStore(cfg)` opens the configured backend. */
import path from 'node:path';
import type { StoreConfig } from '../config/schema.js';
import { openSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

export type * from './types.js';

export async function createStore(cfg: StoreConfig, dataDir: string): Promise<Store> {
  switch (cfg.kind) {
    case 'sqlite':
      return openSqliteStore(cfg.file === ':memory:' ? ':memory:' : path.resolve(dataDir, cfg.file));
  }
}
