/**
 * The store areas the operator admin writes, on every backend: the OEM registry (seeding: the
 * config wins, and several instances seed at once), policy versions by hash, vehicle credential
 * rotation and revocation, and owner tokens.
 */
import { describe, expect, it } from 'vitest';
import type { OemDefinition } from '../../src/store/types.js';
import { backends, useBackend, VIN1, VIN2 } from './backends.js';

const def = (id: string, over: Partial<OemDefinition> = {}): OemDefinition => ({
  id,
  name: id,
  endpoint: `https://${id}.example/in`,
  allowedCountries: ['DE'],
  allowPrivateNetworks: false,
  signingKeyFile: null,
  mtls: null,
  ...over,
});

describe.each(backends())('registry conformance: $name', (backend) => {
  const { fresh, second, track } = useBackend(backend);

  describe('OEM registry', () => {
    it('keeps API OEMs, refuses a taken id, changes and disables them', async () => {
      const store = await fresh();
      const row = await store.insertOem({ ...def('acme', { mtls: { certFile: '/c', keyFile: '/k' } }), now: 10 });
      expect(row).toMatchObject({
        id: 'acme',
        source: 'api',
        disabledAt: null,
        createdAt: 10,
        updatedAt: 10,
        mtls: { certFile: '/c', keyFile: '/k' },
        allowedCountries: ['DE'],
      });
      await expect(store.insertOem({ ...def('acme'), now: 11 })).rejects.toMatchObject({ code: 'SHK_ADMIN_CONFLICT' });
      expect(await store.getOem('acme')).toEqual(row);
      expect(
        await store.updateOem('acme', { endpoint: 'https://new.example/in', mtls: null, allowedCountries: [] }, 20),
      ).toMatchObject({
        endpoint: 'https://new.example/in',
        mtls: null,
        allowedCountries: [],
        createdAt: 10,
        updatedAt: 20,
      });
      expect(await store.updateOem('acme', { allowPrivateNetworks: true }, 21)).toMatchObject({
        allowPrivateNetworks: true,
        endpoint: 'https://new.example/in',
      });
      expect(await store.setOemDisabled('acme', 30, 30)).toMatchObject({ disabledAt: 30 });
      expect(await store.setOemDisabled('acme', null, 31)).toMatchObject({ disabledAt: null });
      expect(await store.updateOem('nobody', { name: 'x' }, 1)).toBeUndefined();
      expect(await store.setOemDisabled('nobody', 1, 1)).toBeUndefined();
      expect(await store.getOem('nobody')).toBeUndefined();
    });

    it('seeding: the config wins for its ids, and a config OEM the config dropped stays, disabled, as an API OEM', async () => {
      const store = await fresh();
      await store.insertOem({ ...def('shared', { endpoint: 'https://api-defined.example/' }), now: 1 });
      const gone = def('gone', {
        signingKeyFile: '/keys/gone',
        mtls: { certFile: '/c', keyFile: '/k', caFile: '/ca' },
      });
      expect(await store.seedConfigOems([def('shared'), gone], 5)).toEqual({
        demoted: [],
        overridden: ['shared'],
        changed: [],
      });
      expect(await store.getOem('shared')).toMatchObject({
        source: 'config',
        endpoint: 'https://shared.example/in',
        updatedAt: 5,
      });
      // The same config again is not an edit.
      expect(await store.seedConfigOems([def('shared'), gone], 6)).toEqual({
        demoted: [],
        overridden: [],
        changed: [],
      });
      expect((await store.getOem('shared'))!.updatedAt).toBe(5);
      expect((await store.getOem('gone'))!.updatedAt).toBe(5);

      expect(await store.seedConfigOems([def('shared')], 7)).toEqual({
        demoted: ['gone'],
        overridden: [],
        changed: [],
      });
      expect(await store.getOem('gone')).toMatchObject({ source: 'api', disabledAt: 7, signingKeyFile: null });
      expect((await store.listOems()).map((o) => [o.id, o.source])).toEqual([
        ['gone', 'api'],
        ['shared', 'config'],
      ]);
    });

    it('seeding another definition of a config OEM reports it, with the fields that differ, and stores the new one', async () => {
      const store = await fresh();
      const acme = def('acme', {
        mtls: { certFile: '/c', keyFile: '/k', caFile: '/ca' },
        allowedCountries: ['DE', 'FR'],
      });
      await store.seedConfigOems([acme, def('other')], 5);
      // The same definition again (on PostgreSQL the mtls object comes back from JSONB in its own key order): no change.
      const reordered = { ...acme, mtls: { caFile: '/ca', keyFile: '/k', certFile: '/c' } };
      expect((await store.seedConfigOems([reordered, def('other')], 6)).changed).toEqual([]);
      expect((await store.getOem('acme'))!.updatedAt).toBe(5);

      // Another instance's config: another endpoint for acme.
      const theirs = { ...acme, endpoint: 'https://elsewhere.example/in' };
      expect(await store.seedConfigOems([theirs, def('other')], 7)).toEqual({
        demoted: [],
        overridden: [],
        changed: [{ id: 'acme', fields: ['endpoint'] }],
      });
      expect(await store.getOem('acme')).toMatchObject({
        source: 'config',
        endpoint: 'https://elsewhere.example/in',
        updatedAt: 7,
      });
      expect((await store.getOem('other'))!.updatedAt).toBe(5);

      // Every field that differs is named, in the definition's order.
      const edited = {
        ...theirs,
        name: 'ACME',
        allowedCountries: ['FR', 'DE'],
        allowPrivateNetworks: true,
        signingKeyFile: '/keys/acme',
        mtls: { certFile: '/c', keyFile: '/k' },
      };
      expect((await store.seedConfigOems([edited, def('other')], 8)).changed).toEqual([
        { id: 'acme', fields: ['name', 'allowedCountries', 'allowPrivateNetworks', 'signingKeyFile', 'mtls'] },
      ]);
      expect(await store.getOem('acme')).toMatchObject({
        name: 'ACME',
        allowedCountries: ['FR', 'DE'],
        mtls: { certFile: '/c', keyFile: '/k' },
        signingKeyFile: '/keys/acme',
      });

      // Re-enabling a disabled config OEM with the same definition is not a change of definition.
      await store.setOemDisabled('acme', 9, 9);
      expect((await store.seedConfigOems([edited, def('other')], 10)).changed).toEqual([]);
      expect(await store.getOem('acme')).toMatchObject({ disabledAt: null, updatedAt: 10 });
    });

    it('lists OEMs by id, byte order', async () => {
      const store = await fresh();
      for (const id of ['b', 'B', 'a-2', 'a']) await store.insertOem({ ...def(id), now: 1 });
      expect((await store.listOems()).map((o) => o.id)).toEqual(['B', 'a', 'a-2', 'b']);
    });

    it('two instances seeding the same config at once: both start, one row per OEM, one override reported', async () => {
      const [a, b] = await backend.openPair();
      track(a!, b!);
      await a!.insertOem({ ...def('shared', { endpoint: 'https://api-defined.example/' }), now: 1 });
      const config = [def('shared'), def('acme'), def('other')];
      const results = await Promise.all([a!.seedConfigOems(config, 5), b!.seedConfigOems(config, 5)]);
      expect(results.flatMap((r) => r.overridden)).toEqual(['shared']);
      expect(results.flatMap((r) => r.demoted)).toEqual([]);
      expect(results.flatMap((r) => r.changed)).toEqual([]);
      expect((await b!.listOems()).map((o) => [o.id, o.source, o.endpoint])).toEqual([
        ['acme', 'config', 'https://acme.example/in'],
        ['other', 'config', 'https://other.example/in'],
        ['shared', 'config', 'https://shared.example/in'],
      ]);
    });

    it('two instances registering the same id at once: one wins, the other is told it is taken', async () => {
      const store = await fresh();
      const other = await second();
      const results = await Promise.allSettled([
        store.insertOem({ ...def('acme', { name: 'first' }), now: 1 }),
        other.insertOem({ ...def('acme', { name: 'second' }), now: 1 }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const won = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ name: string }>;
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({
        code: 'SHK_ADMIN_CONFLICT',
      });
      expect(await store.listOems()).toMatchObject([{ id: 'acme', name: won.value.name }]);
    });
  });
  describe('policy versions', () => {
    it('stores each hash once per OEM, newest first', async () => {
      const store = await fresh();
      const v = (hash: string, at: number) => ({
        oem: 'acme',
        policyHash: hash,
        content: `text ${hash}`,
        source: 'cli',
        uploadedAt: at,
      });
      expect(await store.putPolicyVersion(v('sha256:a', 1))).toBe(true);
      expect(await store.putPolicyVersion(v('sha256:b', 2))).toBe(true);
      expect(await store.putPolicyVersion(v('sha256:a', 3))).toBe(false);
      expect(await store.putPolicyVersion({ ...v('sha256:a', 4), oem: 'other' })).toBe(true);
      expect((await store.listPolicyVersions('acme')).map((r) => [r.policyHash, r.uploadedAt])).toEqual([
        ['sha256:b', 2],
        ['sha256:a', 1],
      ]);
      expect(await store.getPolicyVersion('acme', 'sha256:a')).toEqual(v('sha256:a', 1));
      expect(await store.getPolicyVersion('acme', 'sha256:c')).toBeUndefined();
      expect(await store.listPolicyVersions('nobody')).toEqual([]);
    });

    it('versions uploaded in the same millisecond: the later upload first', async () => {
      const store = await fresh();
      for (const h of ['sha256:c', 'sha256:a', 'sha256:b'])
        await store.putPolicyVersion({ oem: 'acme', policyHash: h, content: h, source: 'cli', uploadedAt: 5 });
      expect((await store.listPolicyVersions('acme')).map((r) => r.policyHash)).toEqual([
        'sha256:b',
        'sha256:a',
        'sha256:c',
      ]);
    });
  });

  describe('vehicle credentials', () => {
    const secret = (n: number) => ({ secretHash: Buffer.alloc(32, n), secretSalt: Buffer.alloc(16, n) });

    it('rotation replaces the secret and lifts a revocation; revocation is recorded once', async () => {
      const store = await fresh();
      await store.registerVehicle({ vin: VIN1, oem: 'acme', ...secret(1) });
      const created = await store.getVehicle(VIN1);
      expect(created).toMatchObject({ revokedAt: null, secretSetAt: created!.createdAt });
      expect(await store.revokeVehicleCredentials(VIN1, 100)).toBe(true);
      expect(await store.revokeVehicleCredentials(VIN1, 200)).toBe(false);
      expect(await store.getVehicle(VIN1)).toMatchObject({ revokedAt: 100 });
      expect((await store.listVehicles())[0]).toMatchObject({ revokedAt: 100 });
      expect(await store.rotateVehicleSecret(VIN1, secret(2), 300)).toBe(true);
      expect(await store.getVehicle(VIN1)).toMatchObject({
        revokedAt: null,
        secretSetAt: 300,
        ...secret(2),
        createdAt: created!.createdAt,
      });
      expect(await store.rotateVehicleSecret('LSHKZ000000000009', secret(3), 1)).toBe(false);
      expect(await store.revokeVehicleCredentials('LSHKZ000000000009', 1)).toBe(false);
    });

    it('re-registering a revoked vehicle with replace starts it over: new secret, not revoked', async () => {
      const store = await fresh();
      await store.registerVehicle({ vin: VIN1, oem: 'acme', ...secret(1) });
      await store.revokeVehicleCredentials(VIN1, 100);
      await store.rotateVehicleSecret(VIN1, secret(2), 1);
      await store.revokeVehicleCredentials(VIN1, 100);
      await store.registerVehicle({ vin: VIN1, oem: 'other', ...secret(3), replace: true });
      const v = await store.getVehicle(VIN1);
      expect(v).toMatchObject({ oem: 'other', revokedAt: null, ...secret(3) });
      expect(v!.secretSetAt).toBe(v!.createdAt);
      expect(v!.secretSetAt).toBeGreaterThan(1);
    });
  });

  describe('owner tokens', () => {
    it('a token authenticates its owner for its vehicles until it is revoked', async () => {
      const store = await fresh();
      const { id, token } = await store.createOwnerToken({
        ownerRef: 'customer-42',
        vins: [VIN2, VIN1, VIN2],
        now: 10,
      });
      expect(token).toMatch(new RegExp(`^sho_${id}_`));
      const owner = { id, ownerRef: 'customer-42', vins: [VIN1, VIN2], createdAt: 10, revokedAt: null };
      expect(await store.authenticateOwner(token)).toEqual(owner);
      expect(await store.ownersOfVehicle(VIN1)).toEqual([owner]);
      expect(await store.ownersOfVehicle(VIN2)).toEqual([owner]);
      expect(await store.ownersOfVehicle('LSHKZ000000000009')).toEqual([]);

      // A wrong secret, a token of another shape, an unknown id: nobody.
      const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      expect(await store.authenticateOwner(tampered)).toBeUndefined();
      expect(await store.authenticateOwner(`shk_${token.slice(4)}`)).toBeUndefined();
      expect(await store.authenticateOwner(`sho_0000000000000000_${token.slice(-43)}`)).toBeUndefined();

      expect(await store.revokeOwnerToken(id, 20)).toBe(true);
      expect(await store.revokeOwnerToken(id, 30)).toBe(false);
      expect(await store.revokeOwnerToken('0000000000000000', 30)).toBe(false);
      expect(await store.authenticateOwner(token)).toBeUndefined();
      // The binding stays on record, revoked.
      expect(await store.ownersOfVehicle(VIN1)).toEqual([{ ...owner, revokedAt: 20 }]);
    });

    it('a vehicle with several owners lists them oldest first, and another instance sees the same tokens', async () => {
      const store = await fresh();
      const later = await store.createOwnerToken({ ownerRef: 'second-owner', vins: [VIN1], now: 20 });
      const first = await store.createOwnerToken({ ownerRef: 'first-owner', vins: [VIN1, VIN2], now: 10 });
      const other = await second();
      expect((await other.ownersOfVehicle(VIN1)).map((o) => [o.ownerRef, o.vins])).toEqual([
        ['first-owner', [VIN1, VIN2]],
        ['second-owner', [VIN1]],
      ]);
      expect(await other.authenticateOwner(later.token)).toMatchObject({ id: later.id, ownerRef: 'second-owner' });
      expect(await other.authenticateOwner(first.token)).toMatchObject({ id: first.id, vins: [VIN1, VIN2] });
    });
  });
});
