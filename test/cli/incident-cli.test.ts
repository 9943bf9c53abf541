/**
 * The incident workflow on the command line: the built `shekara` binary against a seeded store
 * (test/reports/seed.ts). `incident open` pre-fills the notice from the store and the log and
 * starts the business-day clock over a weekend; `incident notice` writes the document with the
 * identifiers and a checkpoint; `incident close` ends it; each step is an `incident` leaf with
 * source cli, and each command an `access` leaf; `evidence` puts it in the pack that `verify --pack` checks.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { shekara } from '../audit/helpers.js';
import { seedStore, VINS } from '../reports/seed.js';

const CONTACT = 'DPO, +7 727 000 00 00';

describe('shekara incident', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-incident-cli-'));
  const config = path.join(dir, 'shekara.yaml');
  const cli = (...args: string[]) => shekara(...args, '-c', config);
  let id = '';

  beforeAll(async () => {
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    await seedStore(store);
    await store.close();
    writeFileSync(config, `dataDir: ${dir}\nincidents: { contact: '${CONTACT}' }\nlog: { level: silent }\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens an incident pre-filled from the log, its notice due after the weekend', async () => {
    const r = await cli(
      ...['incident', 'open', '--summary', 'Backup tape lost'],
      ...[
        '--discovered-at',
        '2026-11-27T15:00:00+05:00',
        '--from',
        '2030-01-01T00:00:00Z',
        '--to',
        '2030-02-01T00:00:00Z',
      ],
      ...['--vin', VINS.a.toLowerCase(), '--measure', 'tape encrypted'],
    );
    expect(r.code, r.stderr).toBe(0);
    const i = JSON.parse(r.stdout) as Record<string, unknown> & { id: string; persons: string[] };
    id = i.id;
    expect(i).toMatchObject({
      status: 'open',
      oems: ['acme'],
      countries: ['DE'],
      categories: ['location', 'technical'],
      crossings: 2,
      vehicles: [{ vin: VINS.a, pseudonyms: ['p-acme-A1'] }],
      contact: CONTACT,
      // Friday afternoon in Almaty → the end of Monday 30 November 2026.
      dueAt: Date.parse('2026-12-01T00:00:00+05:00'),
    });
    expect(i.persons).toHaveLength(3);
    const list = await cli('incident', 'list');
    expect(list.stdout).toContain(`${id}\topen\tnotice due 2026-11-30T19:00:00.000Z (OVERDUE)\t1 vehicles\t3 persons`);
    const bad = await cli('incident', 'open', '--summary', 'x', '--discovered-at', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('SHK_BAD_REQUEST');
  }, 120_000);

  it('writes the notice as a document and closes the incident; each step is a leaf', async () => {
    const file = path.join(dir, 'notice.html');
    const n = await cli('incident', 'notice', id, '-o', file);
    expect(n.code, n.stderr).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('Personal-data incident notice');
    expect(html).toContain(VINS.a);
    expect(html).toContain(CONTACT);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const c = await cli('incident', 'close', id, '--measure', 'owners informed');
    expect(c.stdout).toContain('steps: opened, notice-exported, closed');
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    try {
      const steps = await store.listAuditEvents({ kind: 'incident', limit: 100 });
      expect(steps.map((e) => [e.body.action, e.body.source])).toEqual([
        ['opened', 'cli'],
        ['notice-exported', 'cli'],
        ['closed', 'cli'],
      ]);
      expect(JSON.stringify(steps)).not.toContain(VINS.a);
      const commands = (await store.listAuditEvents({ kind: 'access', limit: 100 }))
        .filter((e) => e.body.action === 'cli')
        .map((e) => `${String(e.body.command)} ${String(e.body.result)}`);
      expect(commands).toEqual([
        'incident open ok',
        'incident list ok',
        'incident open SHK_BAD_REQUEST',
        'incident notice ok',
        'incident close ok',
      ]);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('puts the incident in the evidence pack, and `verify --pack` checks it against its leaves', async () => {
    const pack = path.join(dir, 'evidence.json');
    const e = await cli('evidence', '--from', '2030-01-01T00:00:00Z', '--to', '2030-02-01T00:00:00Z', '-o', pack);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toContain('1 incidents');
    const written = readFileSync(pack, 'utf8');
    const [i] = (JSON.parse(written) as { incidents: { id: string; status: string; notice: string }[] }).incidents;
    expect(i).toMatchObject({ id, status: 'closed' });
    expect(i!.notice).toContain('tape encrypted; owners informed');
    expect(written).not.toContain(VINS.a);
    const key = path.join(dir, 'key.txt');
    writeFileSync(key, (await cli('audit', 'pubkey')).stdout);
    const v = await shekara('verify', '--pack', pack, '--pubkey', key);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain('1 incidents match their leaves');
    writeFileSync(pack, written.replace('tape encrypted; owners informed', 'tape encrypted'));
    const tampered = await shekara('verify', '--pack', pack, '--pubkey', key);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('the notice text is not the one its fields print');
  }, 120_000);
});
