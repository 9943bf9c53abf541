/**
 * The CLI's way into the admin operations (src/admin): the config's store, opened directly
 * (like `vehicles add` always has), with the config's OEMs read-only. Changes are written to
 * the store; a running gateway applies OEM and policy changes, and cuts connections whose
 * credentials changed, on SIGHUP (or at its next start). The admin API applies them at once.
 */
import { loadConfigFile } from '../config/load.js';
import { createStore, type Store } from '../store/index.js';
import { createAdmin, type Admin } from '../admin/index.js';

export const CLI_ACTOR = 'cli';
export const APPLY_HINT =
  'a running gateway applies this on SIGHUP (kill -HUP) or at its next start; the admin API applies it at once';

export async function withAdmin<T>(
  configFile: string | undefined,
  fn: (admin: Admin, store: Store) => Promise<T>,
): Promise<T> {
  const config = loadConfigFile(configFile);
  const store = await createStore(config.store, config.dataDir, config.keys);
  try {
    return await fn(createAdmin({ store, configOems: config.oems }), store);
  } finally {
    await store.close();
  }
}

export const out = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};
export const json = (v: unknown): void => out(JSON.stringify(v, null, 2));
