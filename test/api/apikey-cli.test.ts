/** `shekara apikey` as an operator meets it: the built binary against a real store file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { configFor, shekara } from '../audit/helpers.js';

describe('shekara apikey', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-apikey-'));
  const config = configFor(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a regulator key, prints it once, stores only its hash; lists and revokes it', async () => {
    const created = await shekara(
      'apikey',
      'create',
      '--role',
      'regulator',
      '--label',
      'KZ data-protection authority',
      '-c',
      config,
    );
    expect(created.code).toBe(0);
    const key = /key \(shown once; only its hash is stored\): (shk_[0-9a-f]{16}_\S+)/.exec(created.stdout)![1]!;
    const id = key.split('_')[1]!;

    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    try {
      expect(await store.authenticateApiKey(key)).toMatchObject({ id, role: 'regulator', revokedAt: null });
      const raw = JSON.stringify(await store.listApiKeys());
      // The secret is everything after `shk_<id>_` (base64url, so it may contain '_' itself).
      expect(raw).not.toContain(key.slice(`shk_${id}_`.length));
    } finally {
      await store.close();
    }

    const list = await shekara('apikey', 'list', '-c', config);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\tregulator\\t\\S+\\tactive\\tKZ data-protection authority$`, 'm'));
    expect(list.stdout).not.toContain(key);

    expect((await shekara('apikey', 'revoke', id, '-c', config)).code).toBe(0);
    expect((await shekara('apikey', 'list', '-c', config)).stdout).toMatch(
      new RegExp(`^${id}\\tregulator\\t\\S+\\trevoked `, 'm'),
    );
    const again = await shekara('apikey', 'revoke', id, '-c', config);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`no active API key ${id}`);
  });

  it('refuses an unknown role', async () => {
    const r = await shekara('apikey', 'create', '--role', 'superuser', '-c', config);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Allowed choices are regulator, operator, oem, owner-app/);
  });
});
