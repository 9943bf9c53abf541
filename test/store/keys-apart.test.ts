/**
 * Keys apart from data: the store's secrets are sealed by a key file (0600 in a 0700 directory),
 * every store file is owner-only, a data directory open to others is refused, and a store
 * written by the old layout (secrets in clear) starts with the same pseudonyms.
 */
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import { shekara } from '../helpers/cli.js';

const mode = (f: string) => statSync(f).mode & 0o777;
const PSEUDONYM_SECRET = 'pseudonym-master-key';
const X = Buffer.from('0123456789abcdef0123456789abcdef-old-layout-master-key');

describe('keys apart from data', () => {
  it('migrates a store written by the old layout: same pseudonyms, no key left readable in the files', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-keys-'));
    const old = openSqliteStore(path.join(dir, 'shekara.db'));
    await old.putSecretIfAbsent(PSEUDONYM_SECRET, X);
    await old.close();
    const reference = await startTestGateway({ dir: mkdtempSync(path.join(tmpdir(), 'shekara-keys-ref-')) });
    const refStore = reference.app.store;
    // The pseudonym the old store's key gives, computed by a gateway told that key directly.
    await refStore.replaceSecret(PSEUDONYM_SECRET, X);
    await reference.stop({ keepDir: true });
    const gwRef = await startTestGateway({ dir: reference.dir });
    const vin = 'LTEST000000000001';
    const expected = gwRef.app.policy.pseudonymFor('demo-oem', vin, Date.now());
    await gwRef.stop();

    const gw = await startTestGateway({ dir });
    expect(gw.app.policy.pseudonymFor('demo-oem', vin, Date.now())).toBe(expected);
    await gw.stop({ keepDir: true });
    for (const f of ['shekara.db', 'shekara.db-wal']) {
      const bytes = (() => {
        try {
          return readFileSync(path.join(dir, f));
        } catch {
          return Buffer.alloc(0);
        }
      })();
      expect(bytes.includes(X), `${f} still holds the key in clear`).toBe(false);
    }
    expect(mode(path.join(dir, 'keys'))).toBe(0o700);
    expect(mode(path.join(dir, 'keys', 'store.key'))).toBe(0o600);
  });

  it('creates the data directory, store, WAL and SHM owner-only', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'shekara-modes-'));
    const dataDir = path.join(parent, 'data');
    const gw = await startTestGateway({ dir: parent, config: { dataDir } });
    try {
      expect(mode(dataDir)).toBe(0o700);
      for (const f of ['shekara.db', 'shekara.db-wal', 'shekara.db-shm'])
        expect(mode(path.join(dataDir, f))).toBe(0o600);
      expect(mode(path.join(dataDir, 'keys', 'store.key'))).toBe(0o600);
    } finally {
      await gw.stop();
    }
  });

  it('refuses to start on a data directory others can read, saying how to fix it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-open-'));
    chmodSync(dir, 0o755);
    await expect(startTestGateway({ dir })).rejects.toThrow(`run \`chmod 700 ${dir}\``);
  });

  it('refuses a store sealed with another key file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-other-'));
    const a = await createStore({ kind: 'sqlite', file: 'shekara.db' }, dir);
    await a.putSecretIfAbsent('x', Buffer.from('secret'));
    await a.close();
    const other = mkdtempSync(path.join(tmpdir(), 'shekara-otherkeys-'));
    await expect(createStore({ kind: 'sqlite', file: 'shekara.db' }, dir, { dir: other })).rejects.toMatchObject({
      code: 'SHK_KEYS_MISMATCH',
    });
  });

  it('seals the key file with a key-encryption key from the environment', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-kek-'));
    const kek = Buffer.alloc(32, 7).toString('base64');
    process.env.SHEKARA_KEYS_KEK = kek;
    try {
      const s = await createStore({ kind: 'sqlite', file: 'shekara.db' }, dir);
      await s.putSecretIfAbsent('x', Buffer.from('secret'));
      await s.close();
      expect(readFileSync(path.join(dir, 'keys', 'store.key'), 'utf8')).toMatch(/^sealed:/);
      const again = await createStore({ kind: 'sqlite', file: 'shekara.db' }, dir);
      expect((await again.getSecret('x'))!.toString()).toBe('secret');
      await again.close();
    } finally {
      delete process.env.SHEKARA_KEYS_KEK;
    }
    await expect(createStore({ kind: 'sqlite', file: 'shekara.db' }, dir)).rejects.toMatchObject({
      code: 'SHK_KEYS_MISMATCH',
    });
  });

  describe('on PostgreSQL', () => {
    const url = 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `shk_keys_${process.pid}`;
    afterAll(async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    });
    it('keeps no secret readable in the database, and seals rows stored in clear before', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'shekara-pgkeys-'));
      const cfg = { kind: 'postgres' as const, url, schema, poolSize: 2 };
      const { openPostgresStore } = await import('../../src/store/pg/index.js');
      const raw = await openPostgresStore(cfg);
      await raw.putSecretIfAbsent(PSEUDONYM_SECRET, X);
      await raw.close();
      const s = await createStore(cfg, dir);
      expect(await s.getSecret(PSEUDONYM_SECRET)).toEqual(X);
      await s.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const rows = (await c.query<{ value: Buffer }>(`SELECT value FROM "${schema}".local_secrets`)).rows;
      await c.end();
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(r.value.includes(X)).toBe(false);
    });
  });
});

describe('backup and export files', () => {
  it('are written owner-only by the CLI', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-bk-'));
    writeFileSync(path.join(dir, 'c.yaml'), 'dataDir: .\noems: []\n');
    const s = await createStore({ kind: 'sqlite', file: 'shekara.db' }, dir);
    await s.close();
    const backup = await shekara('backup', '-c', path.join(dir, 'c.yaml'), '--to', path.join(dir, 'b.db'));
    expect(backup.code).toBe(0);
    expect(mode(path.join(dir, 'b.db'))).toBe(0o600);
    const exported = await shekara(
      'audit',
      'export',
      '-c',
      path.join(dir, 'c.yaml'),
      '--out',
      path.join(dir, 'e.ndjson'),
    );
    expect(exported.code).toBe(0);
    expect(mode(path.join(dir, 'e.ndjson'))).toBe(0o600);
  });
});
