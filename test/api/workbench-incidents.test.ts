/**
 * Incidents over HTTP on a real gateway with a seeded store: the operator opens one and gets the
 * notice pre-filled from the log (vehicles, persons, OEMs, countries, categories) with its
 * one-business-day clock; every step is an 'incident' leaf without a VIN that `verify` accepts;
 * the regulator sees the incident without identifiers and cannot change it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyExport } from '../../src/audit/verify.js';
import { exportLines } from '../../src/audit/export.js';
import { noticeDueAt } from '../../src/incidents/calendar.js';
import { KZ_FIXED_HOLIDAYS } from '../../src/config/schema.js';
import { VINS } from '../reports/seed.js';
import { startSeededGateway, type SeededGateway } from './workbench-helpers.js';

describe('incidents over HTTP', () => {
  let s: SeededGateway;
  let id = '';
  const discoveredAt = '2026-11-27T15:00:00+05:00'; // a Friday in Almaty
  beforeAll(async () => {
    s = await startSeededGateway({ incidents: { contact: 'DPO, +7 727 000 00 00' } });
    const res = await s.api('/admin/v1', '/incidents', s.keys.operator, {
      method: 'POST',
      body: JSON.stringify({
        summary: 'Backup tape of the route store lost in transit',
        discoveredAt,
        scopeFrom: '2030-01-01T00:00:00Z',
        scopeTo: '2030-02-01T00:00:00Z',
        vins: [VINS.a],
        measures: ['tape encrypted; key rotated'],
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    id = ((await res.json()) as { id: string }).id;
  });
  afterAll(async () => s?.gw.stop());

  it('pre-fills the notice from the log and starts the business-day clock', async () => {
    const i = (await (await s.api('/admin/v1', `/incidents/${id}`, s.keys.operator)).json()) as Record<string, unknown>;
    expect(i).toMatchObject({
      status: 'open',
      oems: ['acme'],
      countries: ['DE'],
      categories: ['location', 'technical'],
      crossings: 2,
      vehicles: [{ vin: VINS.a, pseudonyms: ['p-acme-A1'] }],
      contact: 'DPO, +7 727 000 00 00',
      // Friday afternoon → the end of Monday 30 November 2026, Almaty time.
      dueAt: Date.parse('2026-12-01T00:00:00+05:00'),
    });
    expect(i.dueAt).toBe(
      noticeDueAt(Date.parse(discoveredAt), 1, { timeZone: 'Asia/Almaty', holidays: KZ_FIXED_HOLIDAYS }),
    );
    expect(i.persons).toHaveLength(3); // bound owner, owner's national id, driver's licence
    expect((i.steps as { action: string }[]).map((x) => x.action)).toEqual(['opened']);
  });

  it('shows the regulator the incident and its clock, but no VIN and no person', async () => {
    const res = await s.api('/regulator/v1', '/incidents', s.keys.regulator);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(id);
    expect(text).not.toContain(VINS.a);
    expect(text).not.toContain('900101300001');
    const [i] = (JSON.parse(text) as { incidents: { persons: number; overdue: boolean }[] }).incidents;
    expect(i).toMatchObject({ persons: 3, overdue: true }); // due 1 Dec 2026, no notice exported yet
    expect((await s.api('/regulator/v1', '/incidents', s.keys.regulator, { method: 'POST', body: '{}' })).status).toBe(
      405,
    );
    expect((await s.api('/admin/v1', '/incidents', s.keys.regulator)).status).toBe(403);
  });

  it('exports the notice as a document with the identifiers, and logs the export', async () => {
    const res = await s.api('/admin/v1', `/incidents/${id}/notice`, s.keys.operator, { method: 'POST' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Personal-data incident notice');
    expect(html).toContain(VINS.a);
    expect(html).toContain('DPO, +7 727 000 00 00');
    const closed = await s.api('/admin/v1', `/incidents/${id}/close`, s.keys.operator, {
      method: 'POST',
      body: JSON.stringify({ measures: ['owners informed'] }),
    });
    expect(
      ((await closed.json()) as { status: string; steps: { action: string }[] }).steps.map((x) => x.action),
    ).toEqual(['opened', 'notice-exported', 'closed']);
  });

  it("writes each step as an 'incident' leaf without identifiers, and the verifier accepts the log", async () => {
    const { app } = s.gw;
    const cp = await app.audit.checkpointNow();
    const lines: string[] = [];
    for await (const l of exportLines(app.store, cp.size)) lines.push(l);
    const incidentLeaves = lines
      .map((l) => JSON.parse(l) as { entry: Record<string, unknown> })
      .filter((l) => l.entry.kind === 'incident');
    expect(incidentLeaves.map((l) => l.entry.action)).toEqual(['opened', 'notice-exported', 'closed']);
    expect(JSON.stringify(incidentLeaves)).not.toContain(VINS.a);
    const report = await verifyExport({
      lines,
      checkpoints: [{ label: 'cp', note: cp.note }],
      verifierKey: app.audit.verifierKey,
    });
    expect(report.leaves).toBe(cp.size);
  });
});
