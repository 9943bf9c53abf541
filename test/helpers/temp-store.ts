/** A real SQLite store in a temp dir, for tests that need a store and no gateway. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/index.js';

export interface TempStore {
  /** The open store; replaced by reopen(). */
  store: Store;
  readonly dir: string;
  readonly file: string;
  /** Closes the store and opens the same file again, as a restart does. */
  reopen(): Promise<Store>;
  /** Closes the store (if still open) and removes the directory. */
  dispose(): Promise<void>;
}

export function tempStore(prefix = 'shekara-store-'): TempStore {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const file = path.join(dir, 'shekara.db');
  const t: TempStore = {
    store: openSqliteStore(file),
    dir,
    file,
    async reopen() {
      await t.store.close();
      t.store = openSqliteStore(file);
      return t.store;
    },
    async dispose() {
      await t.store.close().catch(() => undefined); // already closed
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
