/**
 * minInterval holds across a restart, as a property: for any spacing of a
 * car's records and any restart point, the projections sent before and after the restart are at
 * least minInterval apart. Each engine runs on the same real SQLite store, and every record is
 * committed with its projections the way ingest commits them (the outbox is what the next engine
 * reads back). The whole kill -9 path is test/e2e/restart-state.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createPolicyEngine, type PolicyEngine } from '../../src/policy/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { T0, rec, writePolicy } from './helpers.js';

const MIN_MS = 30_000;
const POLICY = `oem: acme
purposes:
  - id: rate
    description: speed, at most every 30 s
    minInterval: PT30S
    fields:
      Vehicle.Speed: pass
`;

describe('minInterval across a restart (property)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-mininterval-'));
  let store: Store;
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no two projections of a car are closer than minInterval, whatever the restart point', async () => {
    store = await openSqliteStore(path.join(dir, 'shekara.db'));
    const file = writePolicy(POLICY);
    let car = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 45 }), { minLength: 2, maxLength: 14 }),
        fc.nat(),
        async (gapsS, cut) => {
          const vin = `LSHKZ9${String(++car).padStart(11, '0')}`;
          let t = T0 + car * 86_400_000;
          const records = gapsS.map((g) => rec({ 'Vehicle.Speed': g }, { vin, observedAt: (t += g * 1000) }));
          const restartAt = cut % records.length;
          let clock = records[0]!.receivedAt;
          const start = () =>
            createPolicyEngine(
              { oems: [{ id: 'acme', policyFile: file }], epochDays: 30 },
              { masterKey: Buffer.alloc(32, 7), state: store, now: () => clock },
            );
          const sent: number[] = [];
          const run = async (engine: PolicyEngine, part: typeof records) => {
            for (const r of part) {
              clock = r.receivedAt;
              const projections = await engine.project(r);
              await store.commitIngest([{ kind: 'record', record: r, raw: Buffer.from('{}'), projections }]);
              sent.push(...projections.map((p) => p.observedAt));
            }
            await engine.close();
          };
          await run(await start(), records.slice(0, restartAt));
          await run(await start(), records.slice(restartAt));
          for (let i = 1; i < sent.length; i++) expect(sent[i]! - sent[i - 1]!).toBeGreaterThanOrEqual(MIN_MS);
        },
      ),
      { numRuns: 30 },
    );
  });
});
