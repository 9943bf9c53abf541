/**
 * Replicas on one PostgreSQL store share no disk: each must open what another sealed. The store
 * key then comes from SHEKARA_STORE_KEY (the Helm chart's Secret), not from a pod's own key file.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openKeyRing } from '../../src/keys/ring.js';

describe('store key from the environment', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'shekara-keyenv-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const env = { SHEKARA_STORE_KEY: Buffer.alloc(32, 7).toString('base64') };

  it('lets two instances with separate disks open what the other sealed, writing no key file', () => {
    const a = openKeyRing({ dir: path.join(root, 'a') }, env);
    const b = openKeyRing({ dir: path.join(root, 'b') }, env);
    const sealed = a.seal('pseudonym-master', Buffer.from('secret bytes'));
    expect(b.open('pseudonym-master', sealed).toString()).toBe('secret bytes');
    expect(existsSync(path.join(root, 'a', 'store.key'))).toBe(false);
  });

  it('refuses a key that is not 32 bytes, saying how to make one', () => {
    expect(() => openKeyRing({ dir: path.join(root, 'c') }, { SHEKARA_STORE_KEY: 'c2hvcnQ=' })).toThrow(
      /SHEKARA_STORE_KEY must be 32 bytes in base64, e.g. from `openssl rand -base64 32`/,
    );
  });
});
