/**
 * The console in a real browser: playwright-core driving the machine's Chromium (the Debian
 * package; .ci/run installs it) against a real gateway on a seeded store (test/reports/seed.ts).
 * A regulator signs in, reads an overview whose figures are the seeded log's, checks an
 * inclusion proof in the page (verified) and the same proof altered on the wire (failed), checks
 * the log's consistency between two checkpoints, downloads a report, reads the charts per OEM →
 * country and the threshold alerts of a year, reads each OEM's policy in plain words, is refused
 * an operator page, and switches language; an operator sees the access list. Screenshots go to
 * test-artifacts/console/ (SHEKARA_CONSOLE_DOCS=1 also writes the ones docs/console.md shows).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, openConsoleBrowser, type ConsoleBrowser } from './browser.js';
import { startSeededGateway, type SeededGateway } from '../api/workbench-helpers.js';
import { CONSOLE_CSP } from '../../src/api/console.js';

describe('the console in Chromium', () => {
  let s: SeededGateway;
  let b: ConsoleBrowser;
  let page: Page;
  let context: BrowserContext;
  const shot = (name: string, docs = false) => b.shot(name, docs);
  const signIn = (key: string) => b.signIn(s.gw.httpUrl, key);
  const figure = (id: string) => page.locator(`[data-figure="${id}"] .value`);

  beforeAll(async () => {
    s = await startSeededGateway({ reports: { thresholds: { persons: 5, sensitivePersons: 3 } } });
    b = await openConsoleBrowser();
    ({ page, context } = b);
  }, 120_000);
  afterAll(async () => {
    await b?.browser.close();
    await s?.gw.stop();
  });

  it('serves the page with a strict CSP and nothing from elsewhere', async () => {
    const res = await fetch(`${s.gw.httpUrl}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc="app\.js")/);
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${s.gw.httpUrl}/console/../package.json`)).status).toBe(404);
    expect((await fetch(`${s.gw.httpUrl}/console/nope.js`)).status).toBe(404);
  });

  it('signs a regulator in; the overview shows the seeded log', async () => {
    await signIn(s.keys.regulator);
    await page.waitForSelector('[data-figure="entries"]');
    const stored = await s.gw.app.store.searchEgress({}, 0, 1_000);
    expect(stored).toHaveLength(7); // the seed: 5 delivered, 1 blocked, 1 dead-lettered; acme → DE, bolt → CN
    expect(await figure('entries').textContent()).toBe('7');
    expect(await figure('delivered').textContent()).toBe('5');
    expect(await figure('blocked').textContent()).toBe('1');
    expect(await figure('failed').textContent()).toBe('0');
    expect(await figure('dead-lettered').textContent()).toBe('1');
    expect(await figure('oems').textContent()).toBe('2');
    expect(await figure('countries').textContent()).toBe('2');
    const size = Number(await figure('checkpoint').textContent());
    expect(size).toBeGreaterThanOrEqual(7);
    expect((await s.gw.app.store.getCheckpoint(size)) ?? (await s.gw.app.audit.latestCheckpoint())).toBeTruthy();
    await page.waitForSelector('[data-result="signature-verified"]');
    const rows = await page.locator('[data-table="crossings"] tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^acmeDE4/); // a-speed, a-loc, b-speed, a-later delivered
    expect(rows[1]).toMatch(/^boltCN1/);
    await page.waitForSelector('[data-table="thresholds"]');
    await shot('overview', true);
    // The key is in the page's memory only.
    const held = await page.evaluate(() => JSON.stringify([Object.values(sessionStorage), document.cookie]));
    expect(held).not.toContain(s.keys.regulator);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect((await context.cookies()).length).toBe(0);
  });

  it('charts the crossings over time per OEM → country, blocked and dead-lettered too', async () => {
    // The seeded log spans January 2030 to February 2031: one bar per month.
    const bars = async (pair: string) =>
      (
        await page
          .locator(`[data-chart="${pair}"] rect`)
          .evaluateAll((rs) => rs.map((r) => `${r.dataset.bucket} ${r.dataset.outcome} ${r.dataset.count}`))
      ).sort();
    expect(await page.locator('[data-chart]').evaluateAll((f) => f.map((x) => x.dataset.chart))).toEqual([
      'acme → DE',
      'bolt → CN',
    ]);
    expect(await bars('acme → DE')).toEqual(['2030-01 blocked 1', '2030-01 delivered 3', '2031-02 delivered 1']);
    expect(await bars('bolt → CN')).toEqual(['2030-01 dead-lettered 1', '2030-01 delivered 1']);
  });

  it('shows the ledger of a year against the thresholds, with an alert where one is reached', async () => {
    await page.selectOption('#threshold-year', '2030');
    await page.waitForSelector('[data-alerts="3"]');
    const counter = (scope: string, c: string) => page.locator(`[data-counter="${scope}|${c}"]`);
    expect(await counter('all', 'persons').textContent()).toBe('5 / 5 — threshold reached');
    expect(await counter('all', 'sensitivePersons').getAttribute('data-alert')).toBe('yes');
    expect(await counter('oem:acme', 'sensitivePersons').getAttribute('data-alert')).toBe('yes');
    expect(await counter('oem:acme', 'persons').textContent()).toBe('4 / 5');
    expect(await counter('oem:bolt', 'persons').getAttribute('data-alert')).toBe('no');
    expect(await counter('all', 'vehicles').textContent()).toBe('3');
    await page.locator('[data-table="thresholds"]').scrollIntoViewIfNeeded();
    await shot('overview-thresholds', true);
  });

  it("says in plain words what each OEM receives, per purpose, from the OEM's active policy", async () => {
    await page.click('a[data-view="policy"]');
    const loc = page.locator('[data-policy="acme"] [data-purpose="loc"]');
    await loc.waitFor();
    expect(await loc.locator('h3').textContent()).toBe('Purpose “loc”: Coarse location for traffic.');
    expect(await loc.locator('[data-field]').allTextContents()).toEqual([
      'Vehicle.Speed — as measured (technical data)',
      'Vehicle.CurrentLocation — generalized to an area (method h3, resolution 7) (location)',
    ]);
    expect(await loc.locator('[data-consent]').textContent()).toBe(
      "Only with the owner's consent; a consent lasts at most 90 days.",
    );
    const speed = page.locator('[data-policy="acme"] [data-purpose="speed"]');
    // The second version, active since 16 January 2030, added the travelled distance.
    expect(await speed.locator('[data-field]').allTextContents()).toEqual([
      'Vehicle.Speed — as measured (technical data)',
      'Vehicle.TraveledDistance — as measured (technical data)',
    ]);
    const text = (await speed.textContent())!;
    expect(text).toContain('Legal basis: contract.');
    expect(text).toContain("Sent without asking the owner's consent.");
    expect(text).toContain('Sent to Acme Motors (acme.example), in DE; seen in the log: DE.');
    expect(text).toContain('The OEM keeps it for 30 days.');
    expect(text).toContain('active since 16 Jan 2030');
    expect(await page.locator('[data-policy="bolt"] [data-purpose="speed"]').textContent()).toContain(
      'The policy states no retention at the OEM.',
    );
    await shot('policy', true);
  });

  it('checks an inclusion proof in the browser: verified', async () => {
    await page.click('a[data-view="log"]');
    await page.waitForSelector('[data-table="entries"] tbody tr');
    expect(await page.locator('[data-table="entries"] tbody tr').count()).toBe(7);
    await page.click('button[data-seq="2"]');
    await page.waitForSelector('#proof-result');
    expect(await page.getAttribute('#proof-result', 'data-result')).toBe('verified');
    expect(await page.locator('ol.steps li.ok').count()).toBe(4);
    await shot('proof-verified', true);
  });

  it('a proof altered on the wire shows failed', async () => {
    await page.route(/\/regulator\/v1\/entries\/\d+$/, async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { inclusionProof: string[] };
      const h = Buffer.from(body.inclusionProof[0]!, 'base64');
      h[0]! ^= 0x01;
      body.inclusionProof[0] = h.toString('base64');
      await route.fulfill({ response: res, json: body });
    });
    await page.click('button[data-seq="2"]');
    await page.waitForSelector('#proof-result[data-result="failed"]');
    expect(await page.getAttribute('[data-step="inclusion"]', 'class')).toBe('bad');
    expect(await page.getAttribute('[data-step="signature"]', 'class')).toBe('ok');
    await shot('proof-failed', true);
    await page.unroute(/\/regulator\/v1\/entries\/\d+$/);
  });

  it('checks that the log only grew between two checkpoints', async () => {
    const first = Number(await page.evaluate(() => sessionStorage.getItem('shekara.firstCheckpoint')));
    await s.gw.app.store.appendAuditEvent('access', Date.now(), { action: 'test-growth', apiKey: null, role: null });
    const later = await s.gw.app.audit.checkpointNow();
    expect(later.size).toBeGreaterThan(first);
    await page.click('a[data-view="checkpoints"]');
    await page.waitForSelector('#check-consistency');
    await page.click('#check-consistency');
    await page.waitForSelector('#consistency [data-result]');
    expect(await page.getAttribute('#consistency [data-result]', 'data-result')).toBe('verified');
  });

  it('lists the checkpoint history, 20 at a time, each signature checked in the page', async () => {
    // More than a page of checkpoints.
    for (let i = 0; i < 21; i++) {
      await s.gw.app.store.appendAuditEvent('access', Date.now(), { action: 'test-growth', apiKey: null, role: null });
      await s.gw.app.audit.checkpointNow();
    }
    const shown = () =>
      page.$$eval('[data-table="checkpoint-history"] tbody tr', (rows) =>
        rows.map((r) => [
          r.querySelector('td')!.textContent,
          r.querySelector('[data-result]')!.getAttribute('data-result'),
        ]),
      );
    await page.click('a[data-view="overview"]');
    await page.click('a[data-view="checkpoints"]');
    await page.waitForSelector('[data-table="checkpoint-history"] tbody tr');
    // The gateway may sign more while the page loads: the history is read from the page's newest row down.
    const newest = Number((await shown())[0]![0]);
    const sizes = (await s.gw.app.store.listCheckpoints(newest + 1, 1_000)).map((c) => c.size);
    expect(sizes.length).toBeGreaterThan(20);
    expect(await shown()).toEqual(sizes.slice(0, 20).map((n) => [String(n), 'signature-verified']));
    await shot('checkpoint-history', true);
    await page.click('#older-checkpoints');
    await page.waitForFunction(
      (first) => document.querySelector('[data-table="checkpoint-history"] tbody tr td')?.textContent === first,
      String(sizes[20]),
    );
    expect(await shown()).toEqual(sizes.slice(20, 40).map((n) => [String(n), 'signature-verified']));
    // From a row: the latest checkpoint extends that one.
    const older = sizes.find((n, i) => i >= 20 && n > 0)!;
    await page.click(`button[data-check="${older}"]`);
    await page.waitForSelector('#consistency [data-result]');
    expect(await page.getAttribute('#consistency [data-result]', 'data-result')).toBe('verified');
    expect(await page.inputValue('#from-size')).toBe(String(older));
    // A note altered on the wire shows failed in its row.
    await page.route(/\/regulator\/v1\/checkpoints\?/, async (route) => {
      const body = (await (await route.fetch()).json()) as { checkpoints: { note: string }[] };
      body.checkpoints[1]!.note = body.checkpoints[1]!.note.replace(
        /\n(\d+)\n/,
        (_m, n: string) => `\n${Number(n) + 1}\n`,
      );
      await route.fulfill({ json: body });
    });
    await page.click('a[data-view="overview"]');
    await page.click('a[data-view="checkpoints"]');
    await page.waitForSelector('[data-table="checkpoint-history"] tbody tr');
    const tampered = await shown();
    expect(tampered[0]![1]).toBe('signature-verified');
    expect(tampered[1]![1]).toBe('signature-failed');
    await page.unroute(/\/regulator\/v1\/checkpoints\?/);
  });

  it('downloads a report as HTML', async () => {
    await page.click('a[data-view="reports"]');
    const ledger = page.locator('[data-report="ledger"]');
    await ledger.locator('input[name="from"]').fill('2030-01-01');
    await ledger.locator('input[name="to"]').fill('2030-02-01');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      ledger.locator('[data-format="html"]').click(),
    ]);
    const file = path.join(ARTIFACTS, 'ledger.html');
    await download.saveAs(file);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<h1>Cross-border ledger</h1>');
    expect(html).toContain('2030-01-01T00:00:00.000Z');
    await shot('reports', true);
  });

  it('an operator page refuses a regulator key', async () => {
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/admin/v1/')),
      page.click('a[data-view="operator"]'),
    ]);
    expect(res.status()).toBe(403);
    await page.waitForSelector('.refused[data-result="refused"]');
    await shot('operator-refused', true);
  });

  it('switches language: Kazakh, Russian, English', async () => {
    await page.click('a[data-view="overview"]');
    await page.waitForSelector('[data-figure="entries"]');
    await page.selectOption('#lang', 'kk');
    await page.waitForSelector('a[data-view="overview"]:text("Шолу")');
    expect(await page.getAttribute('html', 'lang')).toBe('kk');
    await page.waitForSelector('[data-figure="entries"]');
    expect(await page.textContent('[data-figure="entries"] .label')).toBe('журнал жазбасы');
    await shot('overview-kk', true);
    await page.selectOption('#lang', 'ru');
    await page.waitForSelector('a[data-view="overview"]:text("Обзор")');
    expect(await page.textContent('#role')).toBe('регулятор');
    await page.selectOption('#lang', 'en');
    await page.waitForSelector('a[data-view="overview"]:text("Overview")');
    // A reload keeps the language and forgets the key (it was in memory only).
    await page.reload();
    await page.waitForSelector('#signin:text("Sign in")');
    await signIn(s.keys.regulator);
    await page.waitForSelector('a[data-view="overview"]:text("Overview")');
  });

  it('signs an operator in: the access list names every key and role', async () => {
    await page.click('#signout');
    await page.waitForSelector('#key');
    await signIn(s.keys.operator);
    await page.waitForSelector('[data-table="access-list"]');
    const rows = await page.locator('[data-table="access-list"] tbody tr').allTextContents();
    expect(rows).toHaveLength(3);
    for (const role of ['regulator', 'operator', 'OEM']) expect(rows.some((r) => r.includes(role))).toBe(true);
    await shot('operator-access-list', true);
  });

  it('ran without a script error or a CSP violation', () => {
    expect(b.pageErrors).toEqual([]);
  });
});
