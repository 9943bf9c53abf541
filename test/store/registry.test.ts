/**
 * The store areas the operator admin writes: the OEM registry (seeding: the config wins),
 * policy versions by hash, and vehicle credential rotation and revocation. Written against the
 * Store interface so a second backend can run the same cases.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { OemDefinition, Store } from '../../src/store/types.js';

let store: Store;
afterEach(async () => { await store?.close(); });

const def = (id: string, over: Partial<OemDefinition> = {}): OemDefinition => ({
  id, name: id, endpoint: `https://${id}.example/in`, allowedCountries: ['DE'], allowPrivateNetworks: false, signingKeyFile: null, mtls: null, ...over,
});

describe('OEM registry (SQLite)', () => {
  it('keeps API OEMs, refuses a taken id, changes and disables them', async () => {
    store = openSqliteStore(':memory:');
    const row = await store.insertOem({ ...def('acme', { mtls: { certFile: '/c', keyFile: '/k' } }), now: 10 });
    expect(row).toMatchObject({ id: 'acme', source: 'api', disabledAt: null, createdAt: 10, updatedAt: 10, mtls: { certFile: '/c', keyFile: '/k' }, allowedCountries: ['DE'] });
    await expect(store.insertOem({ ...def('acme'), now: 11 })).rejects.toMatchObject({ code: 'SHK_ADMIN_CONFLICT' });
    expect(await store.updateOem('acme', { endpoint: 'https://new.example/in', mtls: null, allowedCountries: [] }, 20))
      .toMatchObject({ endpoint: 'https://new.example/in', mtls: null, allowedCountries: [], createdAt: 10, updatedAt: 20 });
    expect(await store.setOemDisabled('acme', 30, 30)).toMatchObject({ disabledAt: 30 });
    expect(await store.setOemDisabled('acme', null, 31)).toMatchObject({ disabledAt: null });
    expect(await store.updateOem('nobody', { name: 'x' }, 1)).toBeUndefined();
    expect(await store.setOemDisabled('nobody', 1, 1)).toBeUndefined();
  });

  it('seeding: the config wins for its ids, and a config OEM the config dropped stays, disabled, as an API OEM', async () => {
    store = openSqliteStore(':memory:');
    await store.insertOem({ ...def('shared', { endpoint: 'https://api-defined.example/' }), now: 1 });
    expect(await store.seedConfigOems([def('shared'), def('gone', { signingKeyFile: '/keys/gone' })], 5)).toEqual({ demoted: [], overridden: ['shared'] });
    expect(await store.getOem('shared')).toMatchObject({ source: 'config', endpoint: 'https://shared.example/in', updatedAt: 5 });
    // The same config again is not an edit.
    expect(await store.seedConfigOems([def('shared'), def('gone', { signingKeyFile: '/keys/gone' })], 6)).toEqual({ demoted: [], overridden: [] });
    expect((await store.getOem('shared'))!.updatedAt).toBe(5);

    expect(await store.seedConfigOems([def('shared')], 7)).toEqual({ demoted: ['gone'], overridden: [] });
    expect(await store.getOem('gone')).toMatchObject({ source: 'api', disabledAt: 7, signingKeyFile: null });
    expect((await store.listOems()).map((o) => [o.id, o.source])).toEqual([['gone', 'api'], ['shared', 'config']]);
  });
});

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
