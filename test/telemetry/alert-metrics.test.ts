/**
 * Threshold and incident-clock alerts as metrics (src/reports/alerts.ts): a real gateway on a
 * seeded store whose crossings fall in this calendar year, scraped over HTTP from its Prometheus
 * listener. Each ledger threshold that is on gives counter / threshold per OEM and overall,
 * equal to the ledger report's figures (1 where the seed reaches it); an incident whose notice
 * is not exported gives the seconds left on its clock; a notified one gives none.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { parseConfig } from '../../src/config/load.js';
import { ledgerReport } from '../../src/reports/ledger.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { parseProm, type Sample } from '../helpers/prometheus.js';
import { seedStore, VINS } from '../reports/seed.js';

describe('alerts › thresholds and incident clocks as metrics', () => {
  let gw: TestGateway;
  let dir = '';
  let samples: Sample[];
  const ids = { open: '', notified: '' };
  let dueAt = 0;
  let scrapedAfter = 0;
  const thresholds = { persons: 5, sensitivePersons: 3, vehicles: 0, records: 0, bytes: 0 };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-alerts-'));
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    await seedStore(store, Date.now() - 60_000); // the seeded crossings: a minute ago, this year
    await store.close();
    gw = await startTestGateway({
      dir,
      cars: 1,
      config: {
        store: { kind: 'sqlite', file: 'shekara.db' },
        reports: { thresholds },
        telemetry: { metrics: { prometheus: { enabled: true, port: 0 } } },
      },
    });
    const { key } = await gw.app.store.createApiKey({ role: 'operator', label: 'ops', now: Date.now() });
    const admin = (p: string, body: unknown) =>
      fetch(`${gw.httpUrl}/admin/v1${p}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const open = async (summary: string) => {
      const res = await admin('/incidents', {
        summary,
        discoveredAt: new Date(Date.now() - 60_000).toISOString(),
        vins: [VINS.a],
      });
      expect(res.status).toBe(201);
      return (await res.json()) as { id: string; dueAt: number };
    };
    const a = await open('Backup tape lost');
    ({ id: ids.open, dueAt } = a);
    ids.notified = (await open('Laptop stolen')).id;
    expect((await admin(`/incidents/${ids.notified}/notice?format=json`, undefined)).status).toBe(200);
    scrapedAfter = Date.now();
    const res = await fetch(`http://127.0.0.1:${gw.app.telemetry.metrics.prometheusPort}/metrics`);
    expect(res.status).toBe(200);
    samples = parseProm(await res.text());
  }, 120_000);
  afterAll(async () => gw?.stop());

  it("gives each threshold that is on as counter / threshold, the ledger's figures, 1 where reached", async () => {
    const got = samples
      .filter((s) => s.name === 'shekara_ledger_threshold_fraction')
      .map((s) => [s.labels.scope, s.labels.counter, s.value]);
    const now = Date.now();
    const ledger = await ledgerReport.run(
      {
        store: gw.app.store,
        config: parseConfig(`reports: { thresholds: { persons: 5, sensitivePersons: 3 } }\n`, 'x.yaml', dir),
        checkpoint: { size: Number.MAX_SAFE_INTEGER, root: Buffer.alloc(32), signedAt: now, note: '' },
        now,
      },
      {},
    );
    const want = ledger.totals.flatMap((t) => [
      [t.scope, 'persons', t.persons / 5],
      [t.scope, 'sensitivePersons', t.sensitivePersons / 3],
    ]);
    expect(got.sort()).toEqual(want.sort());
    // The seed's figures (test/reports/reports.test.ts): 5 persons overall, 4 at acme, 3 with sensitive data.
    expect(got).toContainEqual(['all', 'persons', 1]);
    expect(got).toContainEqual(['oem:acme', 'persons', 0.8]);
    expect(got).toContainEqual(['all', 'sensitivePersons', 1]);
  });

  it('gives the seconds left on the clock of each incident whose notice is not exported', () => {
    const due = samples.filter((s) => s.name === 'shekara_incident_notice_due');
    expect(due.map((s) => s.labels.incident)).toEqual([ids.open]);
    expect(due[0]!.value).toBeLessThanOrEqual(Math.round((dueAt - scrapedAfter) / 1000));
    expect(due[0]!.value).toBeGreaterThan(0);
  });
});
