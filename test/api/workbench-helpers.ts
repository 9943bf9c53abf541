/**
 * A real gateway over a store seeded with known contents (test/reports/seed.ts): the seed is
 * written first, into the SQLite file the gateway then opens, so nothing races its egress.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { seedStore, type Seeded } from '../reports/seed.js';

export interface SeededGateway {
  gw: TestGateway;
  seeded: Seeded;
  keys: Record<'regulator' | 'operator' | 'oem', string>;
  api(prefix: string, pathname: string, key: string | null, init?: RequestInit): Promise<Response>;
}

export async function startSeededGateway(config: Record<string, unknown> = {}): Promise<SeededGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-workbench-'));
  const store = openSqliteStore(path.join(dir, 'shekara.db'));
  const seeded = await seedStore(store);
  await store.close();
  const gw = await startTestGateway({
    dir,
    cars: 1,
    config: { store: { kind: 'sqlite', file: 'shekara.db' }, ...config },
  });
  const keys = { regulator: '', operator: '', oem: '' };
  for (const role of ['regulator', 'operator', 'oem'] as const)
    keys[role] = (
      await gw.app.store.createApiKey({
        role,
        label: `test ${role}`,
        now: Date.now(),
        scope: role === 'oem' ? 'acme' : null,
      })
    ).key;
  return {
    gw,
    seeded,
    keys,
    api: (prefix, pathname, key, init = {}) =>
      fetch(`${gw.httpUrl}${prefix}${pathname}`, {
        ...init,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(init.body ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        },
      }),
  };
}
