/**
 * The access log on a real gateway: each request a key makes on a route that touches personal
 * data is an `access` leaf {action: request, apiKey, role, method, route template, category,
 * status} — a refused one too, under the key that tried — while the public key, checkpoints,
 * the OpenAPI documents and the OEM feed add none; no leaf holds the VIN a search named; the
 * access list report counts them per key; and `shekara verify` accepts the log with them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessCategory } from '../../src/api/access-log.js';
import type { AccessList } from '../../src/reports/index.js';
import { shekara } from '../audit/helpers.js';
import { VINS } from '../reports/seed.js';
import { startSeededGateway, type SeededGateway } from './workbench-helpers.js';

describe('access log', () => {
  let s: SeededGateway;
  beforeAll(async () => {
    s = await startSeededGateway();
  });
  afterAll(async () => s?.gw.stop());

  const requests = async () =>
    (await s.gw.app.store.listAuditEvents({ kind: 'access', limit: 1_000 }))
      .filter((e) => e.body.action === 'request')
      .map((e) => e.body);

  it('appends one leaf per request that touches personal data, refused ones included', async () => {
    const keyId = async (role: string) => (await s.gw.app.store.listApiKeys()).find((k) => k.role === role)!.id;
    const before = (await requests()).length;
    expect(before).toBe(0);
    const calls: [string, string, string | null, number][] = [
      ['/regulator/v1', `/entries?vin=${VINS.a}`, s.keys.regulator, 200],
      ['/regulator/v1', '/pubkey', s.keys.regulator, 200],
      ['/regulator/v1', '/checkpoints/latest', s.keys.regulator, 200],
      ['/regulator/v1', '/openapi.json', s.keys.regulator, 200],
      ['/regulator/v1', '/reports/inventory', s.keys.regulator, 200],
      ['/regulator/v1', '/entries/999999', s.keys.regulator, 404],
      ['/admin/v1', '/api-keys', s.keys.operator, 200],
      ['/admin/v1', '/incidents', s.keys.regulator, 403],
      ['/admin/v1', '/incidents', null, 401],
      // acme pushes, so its feed refuses (4xx); the feed adds no access leaf either way (its items are egress leaves).
      ['/oem/v1', '/feed', s.keys.oem, 0],
    ];
    for (const [prefix, p, key, status] of calls) {
      const res = await s.api(prefix, p, key);
      if (status !== 0) expect(res.status, p).toBe(status);
    }
    const [regulator, operator] = [await keyId('regulator'), await keyId('operator')];
    expect(await requests()).toEqual([
      {
        ...{ v: 1, kind: 'access', at: expect.any(Number), index: expect.any(Number) },
        action: 'request',
        apiKey: regulator,
        role: 'regulator',
        method: 'GET',
        route: '/regulator/v1/entries',
        category: 'egress-log',
        status: 200,
      },
      expect.objectContaining({
        apiKey: regulator,
        route: '/regulator/v1/reports/:name',
        category: 'reports',
        status: 200,
      }),
      expect.objectContaining({
        apiKey: regulator,
        route: '/regulator/v1/entries/:seq',
        category: 'egress-log',
        status: 404,
      }),
      expect.objectContaining({
        apiKey: operator,
        role: 'operator',
        route: '/admin/v1/api-keys',
        category: 'keys',
        status: 200,
      }),
      expect.objectContaining({
        apiKey: regulator,
        role: 'regulator',
        route: '/admin/v1/incidents',
        category: 'incidents',
        status: 403,
      }),
    ]);
    const all = await s.gw.app.store.listAuditEvents({ kind: 'access', limit: 1_000 });
    expect(JSON.stringify(all)).not.toContain(VINS.a);
  });

  it('lists every key with its role and logged requests in the access list', async () => {
    const res = await s.api('/regulator/v1', '/reports/access', s.keys.regulator);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: AccessList };
    expect(data.roles).toEqual([
      { role: 'oem', keys: 1, active: 1 },
      { role: 'operator', keys: 1, active: 1 },
      { role: 'regulator', keys: 1, active: 1 },
    ]);
    const byRole = Object.fromEntries(data.keys.map((k) => [k.role, k]));
    // 3 before this report (entries, inventory, entries/:seq) and the 403 on the admin API; the
    // report's own request is logged after its answer is computed.
    expect(byRole.regulator).toMatchObject({ requests: 4, refused: 2, otherAccess: 1 });
    expect(byRole.regulator!.categories).toEqual({ 'egress-log': 2, reports: 1, incidents: 1 });
    expect(byRole.operator).toMatchObject({ requests: 1, refused: 0, categories: { keys: 1 } });
    expect(byRole.oem).toMatchObject({ requests: 0, lastUsedAt: null });
    expect(data.recent[0]).toMatchObject({ action: 'request', route: '/admin/v1/incidents', status: 403 });
  });

  it('`shekara verify` accepts the log with its access leaves', async () => {
    const cp = await s.gw.app.audit.checkpointNow();
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-access-'));
    const exp = await s.api('/regulator/v1', `/log/export?size=${cp.size}`, s.keys.regulator);
    writeFileSync(path.join(dir, 'log.ndjson'), await exp.text());
    writeFileSync(path.join(dir, 'cp.txt'), cp.note);
    writeFileSync(path.join(dir, 'key.txt'), s.gw.app.audit.verifierKey);
    const r = await shekara(
      'verify',
      ...['--export', path.join(dir, 'log.ndjson'), '--checkpoint', path.join(dir, 'cp.txt')],
      ...['--pubkey', path.join(dir, 'key.txt')],
    );
    expect(r.stderr + r.stdout).toMatch(/verified/i);
    expect(r.code).toBe(0);
  });

  it('names what each route touches, and leaves out those that touch no personal data', () => {
    expect(accessCategory('regulator', '/checkpoints/:size')).toBeNull();
    expect(accessCategory('regulator', '/log/export')).toBe('egress-log');
    expect(accessCategory('regulator', '/reports/summary')).toBe('egress-log');
    expect(accessCategory('operator', '/oems/:oem/policies/:hash/activate')).toBe('policies');
    expect(accessCategory('operator', '/oems/:oem/disable')).toBe('registry');
    expect(accessCategory('operator', '/vehicles/:vin/credentials/rotate')).toBe('vehicles');
    expect(accessCategory('oem', '/feed')).toBeNull();
    expect(accessCategory('oem', '/webhook-secret/rotate')).toBe('keys');
    expect(accessCategory('owner-app', '/vehicles/:vin/consents/:purpose')).toBe('consents');
    expect(accessCategory('operator', '/something-new')).toBe('something-new');
  });
});
