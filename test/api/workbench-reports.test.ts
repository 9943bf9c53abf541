/**
 * The reports over HTTP on a real gateway with a seeded store: the regulator gets the ledger as
 * JSON with a checkpoint that verifies against the log's key, and as printable HTML under a CSP
 * that lets nothing load or run; the operator gets the inventory on the admin API; keys of other
 * roles are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAndVerifyCheckpoint, parseVerifierKey } from '../../src/audit/checkpoint.js';
import type { Ledger } from '../../src/reports/index.js';
import { PERIOD } from '../reports/seed.js';
import { startSeededGateway, type SeededGateway } from './workbench-helpers.js';

describe('reports over HTTP', () => {
  let s: SeededGateway;
  beforeAll(async () => {
    s = await startSeededGateway();
  });
  afterAll(async () => s?.gw.stop());
  const q = new URLSearchParams(PERIOD).toString();

  it('serves the ledger to a regulator with the seeded figures and a checkpoint that verifies', async () => {
    const res = await s.api('/regulator/v1', `/reports/ledger?${q}`, s.keys.regulator);
    expect(res.status).toBe(200);
    const env = (await res.json()) as { data: Ledger; checkpoint: { note: string; size: number } };
    expect(env.data.totals.at(-1)).toMatchObject({
      scope: 'all',
      records: 4,
      vehicles: 3,
      persons: 5,
      sensitivePersons: 3,
    });
    const cp = parseAndVerifyCheckpoint(env.checkpoint.note, parseVerifierKey(s.gw.app.audit.verifierKey));
    expect(cp.size).toBeGreaterThanOrEqual(7);
  });

  it('serves a printable HTML document that can load and run nothing', async () => {
    const res = await s.api('/regulator/v1', `/reports/ledger?${q}&format=html`, s.keys.regulator);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    );
    const html = await res.text();
    expect(html).toContain('<h1>Cross-border ledger</h1>');
    expect(html).not.toContain('<script');
  });

  it('serves the inventory to the operator on the admin API, and refuses keys of other roles', async () => {
    const res = await s.api('/admin/v1', '/reports/inventory', s.keys.operator);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { counts: { vehicles: number } } }).data.counts.vehicles).toBe(4); // 3 seeded + 1 test car
    expect((await s.api('/admin/v1', '/reports/inventory', s.keys.regulator)).status).toBe(403);
    expect((await s.api('/regulator/v1', '/reports/inventory', s.keys.oem)).status).toBe(403);
  });

  it('answers 400 naming a parameter the report does not take, and 404 for no such report', async () => {
    const bad = await s.api('/regulator/v1', '/reports/inventory?since=2030-01-01', s.keys.regulator);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/inventory takes no parameters; not since/);
    expect((await s.api('/regulator/v1', '/reports/nope', s.keys.regulator)).status).toBe(404);
  });
});
