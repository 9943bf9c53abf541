/** The policy engine for OEMs of the registry: known at run time, activated at run time, disabled. */
import { describe, expect, it } from 'vitest';
import { createPolicyEngine, parsePolicy } from '../../src/policy/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { onePurpose, rec, writePolicy } from './helpers.js';

const V1 = parsePolicy(onePurpose('      Vehicle.Speed: pass\n'), 'admin-api:k1');
const V2 = parsePolicy(onePurpose('      Vehicle.Speed: pass\n      Vehicle.TraveledDistance: pass\n'), 'admin-api:k1');
const record = () => rec({ 'Vehicle.Speed': 50, 'Vehicle.TraveledDistance': 1200 });

describe('policy engine › an OEM of the registry', () => {
  it('sends nothing until a policy is activated for it, then exactly what that version names', async () => {
    const store = openSqliteStore(':memory:');
    const engine = await createPolicyEngine(
      { oems: [], epochDays: 30 },
      { masterKey: Buffer.alloc(32, 1), history: store, now: () => 5 },
    );
    engine.upsertOem({ id: 'acme', enabled: true });
    expect(await engine.project(record())).toEqual([]);
    expect(engine.pseudonymFor('acme', 'LSHKZ000000000001', 0)).toMatch(/\S/);

    expect(await engine.activatePolicy(V1)).toEqual({
      oem: 'acme',
      from: null,
      to: V1.hash,
      changed: true,
      droppedHeld: 0,
    });
    expect(Object.keys((await engine.project(record()))[0]!.signals)).toEqual(['Vehicle.Speed']);
    expect(await engine.activatePolicy(V2)).toMatchObject({ from: V1.hash, to: V2.hash, changed: true });
    expect(Object.keys((await engine.project(record()))[0]!.signals).sort()).toEqual([
      'Vehicle.Speed',
      'Vehicle.TraveledDistance',
    ]);
    expect((await store.listPolicyActivations('acme')).map((a) => [a.policyHash, a.source, a.activatedAt])).toEqual([
      [V2.hash, 'admin-api:k1', 5],
      [V1.hash, 'admin-api:k1', 5],
    ]);
    await store.close();
  });

  it('activating the active version again changes and records nothing', async () => {
    let recorded = 0;
    const engine = await createPolicyEngine(
      { oems: [], epochDays: 30 },
      {
        masterKey: Buffer.alloc(32),
        history: {
          recordPolicyActivation: async () => {
            recorded += 1;
            return true;
          },
        },
      },
    );
    await engine.activatePolicy(V1);
    expect(await engine.activatePolicy(V1)).toMatchObject({ changed: false, from: V1.hash, to: V1.hash });
    expect(recorded).toBe(1);
  });

  it('is all or nothing: when the activation cannot be recorded, the previous version stays in force', async () => {
    let fail = false;
    const engine = await createPolicyEngine(
      { oems: [], epochDays: 30 },
      {
        masterKey: Buffer.alloc(32),
        history: {
          recordPolicyActivation: async () => {
            if (fail) throw new Error('disk full');
            return true;
          },
        },
      },
    );
    await engine.activatePolicy(V1);
    fail = true;
    await expect(engine.activatePolicy(V2)).rejects.toThrow('disk full');
    expect(engine.policyOf('acme')!.hash).toBe(V1.hash);
    expect(Object.keys((await engine.project(record()))[0]!.signals)).toEqual(['Vehicle.Speed']);
  });

  it('a disabled OEM gets no projections at all; enabled again, it does', async () => {
    const engine = await createPolicyEngine({ oems: [], epochDays: 30 }, { masterKey: Buffer.alloc(32) });
    await engine.activatePolicy(V1);
    engine.upsertOem({ id: 'acme', enabled: false });
    expect(await engine.project(record())).toEqual([]);
    expect((await engine.explain(record())).projections).toEqual([]);
    engine.upsertOem({ id: 'acme', enabled: true });
    expect(await engine.project(record())).toHaveLength(1);
  });

  it('a policy-file reload (SIGHUP) leaves what was activated for registry OEMs in force', async () => {
    const file = writePolicy(onePurpose('      Vehicle.Speed: pass\n').replace('oem: acme', 'oem: filed'));
    const engine = await createPolicyEngine(
      { oems: [{ id: 'filed', policyFile: file }], epochDays: 30 },
      { masterKey: Buffer.alloc(32) },
    );
    await engine.activatePolicy(V2);
    expect(await engine.reload()).toEqual({ changed: [], unchanged: ['filed'] });
    expect(engine.policyOf('acme')!.hash).toBe(V2.hash);
    expect(engine.policyOf('filed')).toBeDefined();
  });
});
