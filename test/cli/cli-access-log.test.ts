/**
 * The access log on the command line: the built `shekara` binary against a real store file.
 * Each command that reads or changes personal data, keys, policies or the registry leaves one
 * `access` leaf {action: cli, command, category, result, user, host} — a failed one too, with
 * its error code — and no VIN or secret; commands that touch no store data leave none; the
 * access list report names the CLI user; and `shekara verify` accepts the log with them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCategory } from '../../src/cli/access-log.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { AccessList } from '../../src/reports/index.js';
import { shekara } from '../audit/helpers.js';
import { policyText } from '../api/admin-helpers.js';

const VIN = 'LACME000000000042';

describe('shekara commands in the access log', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-cli-access-'));
  const config = path.join(dir, 'shekara.yaml');
  const cli = (...args: string[]) => shekara(...args, '-c', config);
  const cliLeaves = async () => {
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    try {
      return (await store.listAuditEvents({ kind: 'access', limit: 1_000 })).filter((e) => e.body.action === 'cli');
    } finally {
      await store.close();
    }
  };

  beforeAll(() => {
    writeFileSync(path.join(dir, 'demo.yaml'), policyText('demo-oem', ['Vehicle.Speed: pass']));
    writeFileSync(
      config,
      [
        `dataDir: ${dir}`,
        'mqtt: { host: 127.0.0.1, port: 0 }',
        'http: { host: 127.0.0.1, port: 0 }',
        'oems:',
        `  - { id: demo-oem, endpoint: 'http://127.0.0.1:9/in', policyFile: demo.yaml, allowPrivateNetworks: true }`,
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one leaf per command that touches the store, failed ones included, and none for the others', async () => {
    const added = await cli('vehicles', 'add', '--vin', VIN, '--oem', 'demo-oem');
    expect(added.code, added.stderr).toBe(0);
    const secret = /secret[^:]*:\s*(\S+)/i.exec(added.stdout)?.[1];
    expect(secret).toBeTruthy();
    expect((await cli('vehicles', 'show', VIN)).code).toBe(0);
    const missing = await cli('vehicles', 'show', 'LACME000000000999');
    expect(missing.code).toBe(2);
    expect((await cli('apikey', 'create', '--role', 'regulator', '--label', 'authority')).code).toBe(0);
    // Touch no store data: no leaf.
    expect((await shekara('config', 'check', config)).code).toBe(0);
    expect((await shekara('policy', 'check', path.join(dir, 'demo.yaml'))).code).toBe(0);
    expect((await cli('audit', 'pubkey')).code).toBe(0);

    const leaves = await cliLeaves();
    const who = { user: userInfo().username, host: hostname(), role: 'cli', apiKey: null };
    expect(leaves.map((e) => e.body)).toEqual([
      expect.objectContaining({ command: 'vehicles add', category: 'vehicles', result: 'ok', ...who }),
      expect.objectContaining({ command: 'vehicles show', category: 'vehicles', result: 'ok', ...who }),
      expect.objectContaining({ command: 'vehicles show', category: 'vehicles', result: 'SHK_NOT_FOUND', ...who }),
      expect.objectContaining({ command: 'apikey create', category: 'keys', result: 'ok', ...who }),
    ]);
    const text = JSON.stringify(leaves);
    expect(text).not.toContain(VIN);
    expect(text).not.toContain('LACME000000000999');
    expect(text).not.toContain(secret);
  }, 180_000);

  it('names the CLI user in the access list report', async () => {
    const r = await cli('report', 'access', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const { data } = JSON.parse(r.stdout) as { data: AccessList };
    expect(data.cli).toEqual([
      {
        user: userInfo().username,
        host: hostname(),
        commands: 4,
        failed: 1,
        categories: { vehicles: 3, keys: 1 },
        lastUsedAt: expect.any(String),
      },
    ]);
    expect(data.recent[0]).toMatchObject({ action: 'cli', route: 'apikey create', result: 'ok', status: null });
    // The report's own leaf comes after the checkpoint it was computed against.
    expect((await cliLeaves()).at(-1)!.body).toMatchObject({ command: 'report', category: 'reports', result: 'ok' });
  }, 60_000);

  it('`shekara verify` accepts the log with the CLI leaves', async () => {
    const exp = await cli('audit', 'export', '--out', path.join(dir, 'log.ndjson'));
    expect(exp.code, exp.stderr).toBe(0);
    const lines = readFileSync(path.join(dir, 'log.ndjson'), 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.includes('"action":"cli"'))).toHaveLength(4);
    writeFileSync(path.join(dir, 'cp.txt'), (await cli('audit', 'checkpoint')).stdout);
    writeFileSync(path.join(dir, 'key.txt'), (await cli('audit', 'pubkey')).stdout);
    const r = await shekara(
      'verify',
      ...['--export', path.join(dir, 'log.ndjson'), '--checkpoint', path.join(dir, 'cp.txt')],
      ...['--pubkey', path.join(dir, 'key.txt')],
    );
    expect(r.code, r.stderr).toBe(0);
    expect((await cliLeaves()).at(-1)!.body).toMatchObject({ command: 'audit export', category: 'egress-log' });
  }, 120_000);

  it('logs a command unless it is known to touch no store data', () => {
    expect(cliCategory('oem signing-key')).toBe('keys');
    expect(cliCategory('oem disable')).toBe('registry');
    expect(cliCategory('policy activate')).toBe('policies');
    expect(cliCategory('objections resolve')).toBe('objections');
    expect(cliCategory('evidence')).toBe('reports');
    expect(cliCategory('backup')).toBe('store');
    expect(cliCategory('verify')).toBeNull();
    expect(cliCategory('policy dry-run')).toBeNull();
    expect(cliCategory('something-new')).toBe('something-new');
  });
});
