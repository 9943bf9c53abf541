/**
 * The operator's incident workflow in the console, in real Chromium against a real gateway on
 * the seeded store: an operator opens an incident from the page (discovered on a Friday), reads
 * what the gateway pre-filled (the VIN, the persons' identifiers, OEMs, countries, categories)
 * and the one-business-day clock (due at the end of Monday, overdue now), exports the notice as
 * a document and closes the incident; each step shows with its leaf. A regulator then sees the
 * incident and its clock on the overview and the incidents page, without the VIN or a person.
 * The key is held in memory only: no storage holds it and a reload asks for it again.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ARTIFACTS, openConsoleBrowser, type ConsoleBrowser } from './browser.js';
import { startSeededGateway, type SeededGateway } from '../api/workbench-helpers.js';
import { VINS } from '../reports/seed.js';

const CONTACT = 'DPO, +7 727 000 00 00';

describe('the operator incident workflow in Chromium', () => {
  let s: SeededGateway;
  let b: ConsoleBrowser;
  let page: Page;
  let id = '';
  const shot = (name: string) => b.shot(name, true);
  const signIn = (key: string) => b.signIn(s.gw.httpUrl, key);

  beforeAll(async () => {
    s = await startSeededGateway({ incidents: { contact: CONTACT } });
    b = await openConsoleBrowser({ width: 1280, height: 900 });
    ({ page } = b);
  }, 120_000);
  afterAll(async () => {
    await b?.browser.close();
    await s?.gw.stop();
  });

  it('holds the key in memory only: no storage has it, a reload asks for it again', async () => {
    await signIn(s.keys.operator);
    await page.waitForSelector('[data-table="access-list"]');
    const stored = await page.evaluate(() =>
      JSON.stringify([Object.values(sessionStorage), Object.values(localStorage), document.cookie]),
    );
    expect(stored).not.toContain(s.keys.operator);
    await page.reload();
    await page.waitForSelector('#key');
    expect(await page.locator('nav').count()).toBe(0);
  });

  it('opens an incident from the page: pre-filled from the store and the log, with its clock', async () => {
    await signIn(s.keys.operator);
    await page.click('a[data-view="operator-incidents"]');
    await page.waitForSelector('#open-incident');
    await page.fill('textarea[name="summary"]', 'Backup tape of the route store lost in transit');
    // 15:00 in Almaty on Friday 27 November 2026: the notice is due at the end of Monday.
    await page.fill('input[name="discoveredAt"]', '2026-11-27T10:00');
    await page.fill('input[name="scopeFrom"]', '2030-01-01T00:00');
    await page.fill('input[name="scopeTo"]', '2030-02-01T00:00');
    await page.fill('textarea[name="vins"]', VINS.a.toLowerCase());
    await page.fill('textarea[name="measures"]', 'tape encrypted, key rotated');
    await page.click('#open-submit');
    await page.waitForSelector('[data-result="opened"]');
    const detail = page.locator('[data-incident-detail]');
    await detail.waitFor();
    id = (await detail.getAttribute('data-incident-detail'))!;
    const [stored] = (await s.gw.app.store.listIncidents()).filter((r) => r.id === id);
    expect(stored).toBeTruthy();
    expect(await detail.getAttribute('data-status')).toBe('open');
    expect(await detail.locator('[data-list="vehicles"] li').allTextContents()).toEqual([`${VINS.a} (p-acme-A1)`]);
    const persons = await detail.locator('[data-list="persons"] li').allTextContents();
    expect(persons).toHaveLength(3); // the bound owner, the owner's national id, the driver's licence
    expect(persons).toContain('owner:Account.Owner.NationalId:900101300001');
    expect(persons).toContain('driver:Account.Driver.LicenseNumber:kz111');
    expect(await detail.locator('[data-list="measures"] li').allTextContents()).toEqual([
      'tape encrypted, key rotated',
    ]);
    const text = await detail.textContent();
    expect(text).toContain(CONTACT);
    expect(text).toContain('DE');
    expect(text).toContain('location, technical data');
    const due = detail.locator('[data-due]');
    expect(await due.getAttribute('data-due')).toBe(String(Date.parse('2026-12-01T00:00:00+05:00')));
    expect(await due.textContent()).toMatch(/^30 Nov 2026, 19:00:00 UTC — overdue by \d+ d \d+ h$/);
    expect(await detail.locator('[data-list="steps"] li').allTextContents()).toEqual([
      expect.stringMatching(/^opened — .* \(leaf \d+\)$/),
    ]);
    // The list above shows it too, with the VIN, as the operator's own view.
    const row = page.locator('[data-table="incidents"] tbody tr');
    await page.waitForSelector(`[data-incident="${id}"]`);
    expect(await row.count()).toBe(1);
    expect(await row.first().textContent()).toContain(VINS.a);
    await shot('operator-incident');
  });

  it('exports the notice as a document and closes the incident; each step shows with its leaf', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-notice')]);
    const file = path.join(ARTIFACTS, 'incident-notice.html');
    await download.saveAs(file);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('Personal-data incident notice');
    expect(html).toContain(VINS.a);
    expect(html).toContain(CONTACT);
    await page.waitForSelector('[data-incident-detail] [data-clock="notified"]');
    await page.fill('#close-measures', 'owners informed');
    await page.click('#close-incident');
    await page.waitForSelector('[data-incident-detail][data-status="closed"]');
    await page.waitForSelector('[data-table="incidents"] tbody tr:has-text("closed")');
    const steps = await page.locator('[data-list="steps"] li').evaluateAll((li) => li.map((x) => x.dataset.step));
    expect(steps).toEqual(['opened', 'notice-exported', 'closed']);
    const leaves = (await s.gw.app.store.listAuditEvents({ kind: 'incident', limit: 100 })).map((e) => e.body.action);
    expect(leaves).toEqual(['opened', 'notice-exported', 'closed']);
    expect(await page.locator('[data-list="measures"] li').allTextContents()).toEqual([
      'tape encrypted, key rotated',
      'owners informed',
    ]);
  });

  it('shows a regulator the incident and its clock, without the VIN or a person', async () => {
    // A second incident, left open, for the overview's open incidents.
    const res = await s.api('/admin/v1', '/incidents', s.keys.operator, {
      method: 'POST',
      body: JSON.stringify({ summary: 'Laptop stolen', discoveredAt: '2026-11-27T10:00:00Z', vins: [VINS.b] }),
    });
    expect(res.status).toBe(201);
    await page.click('#signout');
    await signIn(s.keys.regulator);
    await page.waitForSelector('[data-figure="entries"]');
    const open = page.locator('[data-table="incidents"] tbody tr');
    await open.first().waitFor();
    expect(await open.count()).toBe(1);
    expect(await open.first().textContent()).toMatch(/^Laptop stolen.*overdue by/);
    await page.click('a[data-view="incidents"]');
    await page.waitForSelector('[data-table="incidents"] tbody tr >> nth=1');
    const text = (await page.locator('main').textContent())!;
    expect(text).toContain('Backup tape of the route store lost in transit');
    expect(text).toContain('notice exported');
    expect(text).not.toContain(VINS.a);
    expect(text).not.toContain('900101300001');
  });

  it('ran without a script error or a CSP violation', () => {
    expect(b.pageErrors).toEqual([]);
  });
});
