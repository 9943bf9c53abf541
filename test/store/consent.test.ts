import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';

const VIN = 'LSHKZ000000000001';
let store: Store;
afterEach(() => store?.close());

describe('consent registry (SQLite)', () => {
  it('a grant is in force from its time until revoked, and the history stays', async () => {
    store = openSqliteStore(':memory:');
    const q = { vin: VIN, oem: 'acme', purpose: 'ota' };
    expect(await store.isConsentGranted(VIN, 'acme', 'ota', 100)).toBe(false);
    const g = await store.grantConsent({ ...q, atMs: 100, source: 'owner-app' });
    expect(g).toMatchObject({ ...q, grantedAt: 100, revokedAt: null, source: 'owner-app' });
    expect((await store.grantConsent({ ...q, atMs: 150 })).id).toBe(g.id); // already in force
    expect(await store.isConsentGranted(VIN, 'acme', 'ota', 99)).toBe(false);
    expect(await store.isConsentGranted(VIN, 'acme', 'ota', 100)).toBe(true);
    expect(await store.isConsentGranted(VIN, 'acme', 'other', 100)).toBe(false);
    expect(await store.isConsentGranted(VIN, 'other-oem', 'ota', 100)).toBe(false);
    expect(await store.revokeConsent({ ...q, atMs: 200 })).toBe(1);
    expect(await store.isConsentGranted(VIN, 'acme', 'ota', 199)).toBe(true);
    expect(await store.isConsentGranted(VIN, 'acme', 'ota', 200)).toBe(false);
    await store.grantConsent({ ...q, atMs: 300 });
    expect(await store.isConsentGranted(VIN, 'acme', 'ota', 250)).toBe(false);
    expect(await store.isConsentGranted(VIN, 'acme', 'ota', 300)).toBe(true);
    expect((await store.listConsents(VIN)).map((c) => [c.grantedAt, c.revokedAt])).toEqual([[300, null], [100, 200]]);
    expect(await store.listConsents('LSHKZ000000000002')).toEqual([]);
  });
});

describe('policy activation history (SQLite)', () => {
  it('records a version once per change, newest first, with its text', async () => {
    store = openSqliteStore(':memory:');
    const a = { oem: 'acme', source: 'p.yaml', content: 'v1' };
    expect(await store.recordPolicyActivation({ ...a, policyHash: 'sha256:1', activatedAt: 1 })).toBe(true);
    expect(await store.recordPolicyActivation({ ...a, policyHash: 'sha256:1', activatedAt: 2 })).toBe(false);
    expect(await store.recordPolicyActivation({ ...a, content: 'v2', policyHash: 'sha256:2', activatedAt: 3 })).toBe(true);
    expect(await store.recordPolicyActivation({ ...a, policyHash: 'sha256:1', activatedAt: 4 })).toBe(true); // rolled back: a new activation
    expect(await store.recordPolicyActivation({ ...a, oem: 'other', policyHash: 'sha256:9', activatedAt: 5 })).toBe(true);
    expect((await store.listPolicyActivations('acme')).map((x) => [x.policyHash, x.activatedAt])).toEqual([['sha256:1', 4], ['sha256:2', 3], ['sha256:1', 1]]);
    expect(await store.listPolicyActivations()).toHaveLength(4);
  });
});
