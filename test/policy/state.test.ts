/**
 * Trip state saved by the policy engine and read back by the next one (src/policy/state.ts), on a
 * real SQLite store: the part of a restart that the replay of recent records cannot cover, a trip
 * that began longer ago than the replay reaches back. (The whole restart, `kill -9` included, is
 * test/e2e/restart-state.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPolicyEngine } from '../../src/policy/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { LAT, LON, T0, rec, writePolicy } from './helpers.js';

const POLICY = `oem: acme
purposes:
  - id: where
    description: generalized positions, never near where trips start or end
    tripEndpoints: { radiusMeters: 500 }
    fields:
      Vehicle.Speed: pass
      Vehicle.CurrentLocation: { transform: generalize, method: h3, resolution: 8 }
`;
const HOME = { [LAT]: 43.2389, [LON]: 76.8897 };
const east = (deg: number) => ({ [LAT]: 43.2389, [LON]: 76.8897 + deg });

describe('trip state saved across engines', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-state-'));
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the start of a trip an hour after it began (no record left to replay)', async () => {
    const store = await openSqliteStore(path.join(dir, 'shekara.db'));
    stores.push(store);
    const file = writePolicy(POLICY);
    let clock = T0;
    const engine = (n: () => number) =>
      createPolicyEngine(
        { oems: [{ id: 'acme', policyFile: file }], epochDays: 30 },
        { masterKey: Buffer.alloc(32, 7), state: store, now: n },
      );
    const first = await engine(() => clock);
    // Projected but never committed: nothing of these is in the store to replay.
    await first.project(rec({ ...HOME, 'Vehicle.LowVoltageSystemState': 'ON', 'Vehicle.Speed': 0 }));
    await first.project(rec({ ...east(0.05), 'Vehicle.Speed': 50 }, { observedAt: T0 + 10_000 }));
    clock = T0 + 20_000;
    await first.close(); // saves

    clock = T0 + 3_600_000;
    const second = await engine(() => clock);
    expect(await second.project(rec({ ...east(0.06), 'Vehicle.Speed': 50 }, { observedAt: T0 + 20_000 }))).toEqual([]); // held until the car moves on
    const nearHome = await second.project(
      rec({ [LAT]: 43.2409, [LON]: 76.8897, 'Vehicle.Speed': 30 }, { observedAt: T0 + 30_000 }),
    );
    // 220 m from where the trip began: sent without any position (with no saved state it would be held, then released with its cell).
    expect(nearHome.map((p) => p.signals).filter((s) => s['Vehicle.Speed'] === 30)).toEqual([{ 'Vehicle.Speed': 30 }]);
    await second.close();
  });
});
