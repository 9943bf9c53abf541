/**
 * The store areas the operator admin writes: the OEM registry (seeding: the config wins),
 * policy versions by hash, and vehicle credential rotation and revocation. Written against the
 * Store interface so a second backend can run the same cases.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';

let store: Store;
afterEach(async () => { await store?.close(); });

describe('policy versions (SQLite)', () => {
  it('stores each hash once per OEM, newest first', async () => {
    store = openSqliteStore(':memory:');
    const v = (hash: string, at: number) => ({ oem: 'acme', policyHash: hash, content: `text ${hash}`, source: 'cli', uploadedAt: at });
    expect(await store.putPolicyVersion(v('sha256:a', 1))).toBe(true);
    expect(await store.putPolicyVersion(v('sha256:b', 2))).toBe(true);
    expect(await store.putPolicyVersion(v('sha256:a', 3))).toBe(false);
    expect(await store.putPolicyVersion({ ...v('sha256:a', 4), oem: 'other' })).toBe(true);
    expect((await store.listPolicyVersions('acme')).map((r) => [r.policyHash, r.uploadedAt])).toEqual([['sha256:b', 2], ['sha256:a', 1]]);
    expect(await store.getPolicyVersion('acme', 'sha256:a')).toMatchObject({ content: 'text sha256:a', source: 'cli' });
    expect(await store.getPolicyVersion('acme', 'sha256:c')).toBeUndefined();
  });
});

describe('vehicle credentials (SQLite)', () => {
  it('rotation replaces the secret and lifts a revocation; revocation is recorded once', async () => {
    store = openSqliteStore(':memory:');
    const vin = 'LSHKZ000000000001';
    await store.registerVehicle({ vin, oem: 'acme', secretHash: Buffer.alloc(32, 1), secretSalt: Buffer.alloc(16, 1) });
    expect(await store.getVehicle(vin)).toMatchObject({ revokedAt: null });
    expect(await store.revokeVehicleCredentials(vin, 100)).toBe(true);
    expect(await store.revokeVehicleCredentials(vin, 200)).toBe(false);
    expect(await store.getVehicle(vin)).toMatchObject({ revokedAt: 100 });
    expect(await store.rotateVehicleSecret(vin, { secretHash: Buffer.alloc(32, 2), secretSalt: Buffer.alloc(16, 2) }, 300)).toBe(true);
    expect(await store.getVehicle(vin)).toMatchObject({ revokedAt: null, secretSetAt: 300, secretHash: Buffer.alloc(32, 2) });
    expect(await store.rotateVehicleSecret('LSHKZ000000000009', { secretHash: Buffer.alloc(32), secretSalt: Buffer.alloc(16) }, 1)).toBe(false);
    expect(await store.revokeVehicleCredentials('LSHKZ000000000009', 1)).toBe(false);
  });
});
