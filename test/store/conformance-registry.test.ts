/**
 * The store areas the operator admin writes, on every backend: the OEM registry (seeding: the
 * config wins, and several instances seed at once), policy versions by hash, vehicle credential
 * rotation and revocation, and owner tokens.
 */
import { describe, expect, it } from 'vitest';
import type { OemDefinition } from '../../src/store/types.js';
import { backends, useBackend, VIN1, VIN2 } from './backends.js';

const def = (id: string, over: Partial<OemDefinition> = {}): OemDefinition => ({
  id, name: id, endpoint: `https://${id}.example/in`, allowedCountries: ['DE'], allowPrivateNetworks: false, signingKeyFile: null, mtls: null, ...over,
});

describe.each(backends())('registry conformance: $name', (backend) => {
  const { fresh, second, track } = useBackend(backend);

  describe('OEM registry', () => {
    it('keeps API OEMs, refuses a taken id, changes and disables them', async () => {
      const store = await fresh();
      const row = await store.insertOem({ ...def('acme', { mtls: { certFile: '/c', keyFile: '/k' } }), now: 10 });
      expect(row).toMatchObject({ id: 'acme', source: 'api', disabledAt: null, createdAt: 10, updatedAt: 10, mtls: { certFile: '/c', keyFile: '/k' }, allowedCountries: ['DE'] });
      await expect(store.insertOem({ ...def('acme'), now: 11 })).rejects.toMatchObject({ code: 'SHK_ADMIN_CONFLICT' });
      expect(await store.getOem('acme')).toEqual(row);
      expect(await store.updateOem('acme', { endpoint: 'https://new.example/in', mtls: null, allowedCountries: [] }, 20))
        .toMatchObject({ endpoint: 'https://new.example/in', mtls: null, allowedCountries: [], createdAt: 10, updatedAt: 20 });
      expect(await store.updateOem('acme', { allowPrivateNetworks: true }, 21)).toMatchObject({ allowPrivateNetworks: true, endpoint: 'https://new.example/in' });
      expect(await store.setOemDisabled('acme', 30, 30)).toMatchObject({ disabledAt: 30 });
      expect(await store.setOemDisabled('acme', null, 31)).toMatchObject({ disabledAt: null });
      expect(await store.updateOem('nobody', { name: 'x' }, 1)).toBeUndefined();
      expect(await store.setOemDisabled('nobody', 1, 1)).toBeUndefined();
      expect(await store.getOem('nobody')).toBeUndefined();
    });

    it('seeding: the config wins for its ids, and a config OEM the config dropped stays, disabled, as an API OEM', async () => {
      const store = await fresh();
      await store.insertOem({ ...def('shared', { endpoint: 'https://api-defined.example/' }), now: 1 });
      const gone = def('gone', { signingKeyFile: '/keys/gone', mtls: { certFile: '/c', keyFile: '/k', caFile: '/ca' } });
      expect(await store.seedConfigOems([def('shared'), gone], 5)).toEqual({ demoted: [], overridden: ['shared'] });
      expect(await store.getOem('shared')).toMatchObject({ source: 'config', endpoint: 'https://shared.example/in', updatedAt: 5 });
      // The same config again is not an edit.
      expect(await store.seedConfigOems([def('shared'), gone], 6)).toEqual({ demoted: [], overridden: [] });
      expect((await store.getOem('shared'))!.updatedAt).toBe(5);
      expect((await store.getOem('gone'))!.updatedAt).toBe(5);

      expect(await store.seedConfigOems([def('shared')], 7)).toEqual({ demoted: ['gone'], overridden: [] });
      expect(await store.getOem('gone')).toMatchObject({ source: 'api', disabledAt: 7, signingKeyFile: null });
      expect((await store.listOems()).map((o) => [o.id, o.source])).toEqual([['gone', 'api'], ['shared', 'config']]);
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
      expect((await b!.listOems()).map((o) => [o.id, o.source, o.endpoint])).toEqual([
        ['acme', 'config', 'https://acme.example/in'], ['other', 'config', 'https://other.example/in'], ['shared', 'config', 'https://shared.example/in'],
      ]);
    });

    it('two instances registering the same id at once: one wins, the other is told it is taken', async () => {
      const store = await fresh();
      const other = await second();
      const results = await Promise.allSettled([
        store.insertOem({ ...def('acme', { name: 'first' }), now: 1 }), other.insertOem({ ...def('acme', { name: 'second' }), now: 1 }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const won = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ name: string }>;
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'SHK_ADMIN_CONFLICT' });
      expect(await store.listOems()).toMatchObject([{ id: 'acme', name: won.value.name }]);
    });
  });
});
