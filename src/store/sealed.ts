/**
 * The store as the gateway sees it, with every secret sealed by the key ring (src/keys/ring.ts):
 * written sealed, opened on read. On open, rows an older Shekara stored in clear are sealed in
 * place, so an existing store keeps its pseudonyms and signing keys (the same bytes) while the
 * database itself no longer holds them readable.
 */
import type { KeyRing } from '../keys/ring.js';
import type { Store } from './types.js';

const signingName = (oem: string, version: number) => `egress-signing-key/${oem}/${version}`;

export async function sealStore(store: Store, ring: KeyRing): Promise<Store> {
  for (const name of await store.listSecretNames()) {
    const v = (await store.getSecret(name))!;
    if (ring.isSealed(v))
      ring.open(name, v); // a store sealed by another key file stops here
    else await store.replaceSecret(name, ring.seal(name, v));
  }
  for (const k of await store.listAllSigningKeys()) {
    const name = signingName(k.oem, k.version);
    if (!ring.isSealed(k.key)) await store.replaceSigningKey(k.oem, k.version, ring.seal(name, k.key));
  }
  await store.purgeFreedPages();

  const openSecret = (name: string, v: Buffer | undefined) =>
    v === undefined ? undefined : ring.isSealed(v) ? ring.open(name, v) : v;
  const sealed: Partial<Store> = {
    getSecret: async (name) => openSecret(name, await store.getSecret(name)),
    putSecretIfAbsent: async (name, value) =>
      openSecret(name, await store.putSecretIfAbsent(name, ring.seal(name, value)))!,
    replaceSecret: (name, value) => store.replaceSecret(name, ring.seal(name, value)),
    listSigningKeys: async (oem) =>
      (await store.listSigningKeys(oem)).map((k) => ({ ...k, key: openSecret(signingName(k.oem, k.version), k.key)! })),
    listAllSigningKeys: async () =>
      (await store.listAllSigningKeys()).map((k) => ({
        ...k,
        key: openSecret(signingName(k.oem, k.version), k.key)!,
      })),
    replaceSigningKey: (oem, version, key) =>
      store.replaceSigningKey(oem, version, ring.seal(signingName(oem, version), key)),
    async rotateSigningKey(r) {
      // The new version is the newest + 1 (the backend decides under its lock); seal for the
      // version it will be, and re-seal if another instance rotated in between.
      const newest = (await store.listSigningKeys(r.oem))[0]?.version ?? 0;
      const row = await store.rotateSigningKey({
        ...r,
        key: ring.seal(signingName(r.oem, newest + 1), r.key),
        seed: ring.seal(signingName(r.oem, 0), r.seed),
      });
      if (row.version !== newest + 1)
        await store.replaceSigningKey(r.oem, row.version, ring.seal(signingName(r.oem, row.version), r.key));
      return { ...row, key: r.key };
    },
  };
  return new Proxy(store, {
    get: (target, prop, receiver) =>
      Object.hasOwn(sealed, prop) ? sealed[prop as keyof Store] : Reflect.get(target, prop, receiver),
  });
}
