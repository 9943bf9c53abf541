/**
 * The evidence pack on a seeded store: it verifies offline with the log's key alone, and a
 * changed log entry, a changed policy text or a report checkpoint from another key each fail.
 * It holds the incidents — one opened, notified and closed, one still open — with their notice
 * text and step times, and a changed, dropped or re-timed incident fails too.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createAuditLog } from '../../src/audit/index.js';
import { createLogger } from '../../src/log.js';
import { buildEvidencePack, verifyEvidencePack } from '../../src/reports/evidence.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { createIncidents } from '../../src/incidents/index.js';
import type { EvidencePack } from '../../src/reports/evidence.js';
import type { Config } from '../../src/config/schema.js';
import { PERIOD, seedStore, VINS } from './seed.js';

const CONTACT = 'DPO, +7 727 000 00 00';

/** One incident opened, notified and closed; one still open (both before the pack's checkpoint). */
async function seedIncidents(store: Parameters<typeof createIncidents>[1]['store'], config: Config) {
  const incidents = createIncidents(config, { store, now: Date.now });
  const actor = { source: 'cli' as const, apiKey: null };
  const lost = await incidents.open(
    {
      summary: 'Backup tape lost',
      discoveredAt: Date.parse('2026-11-27T10:00:00Z'),
      scopeFrom: Date.parse(PERIOD.from),
      scopeTo: Date.parse(PERIOD.to),
      vins: [VINS.a],
      measures: ['tape encrypted'],
    },
    actor,
  );
  const notified = await incidents.exportNotice(lost.id, actor);
  const closed = await incidents.close(lost.id, ['keys rotated'], actor);
  const open = await incidents.open(
    { summary: 'Laptop stolen', discoveredAt: Date.parse('2026-11-30T08:00:00Z') },
    actor,
  );
  return { notified, closed, open };
}

const setup = async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-evidence-'));
  const store = openSqliteStore(path.join(dir, 's.db'));
  await seedStore(store);
  const config = parseConfig(`incidents: { contact: '${CONTACT}' }\n`, 'test.yaml', dir);
  const seeded = await seedIncidents(store, config);
  const audit = await createAuditLog(
    { ...config.audit, checkpointIntervalMs: 3_600_000 },
    { store, log: createLogger('silent') },
  );
  const checkpoint = await audit.checkpointNow();
  await audit.close();
  const pack = await buildEvidencePack({ store, config, checkpoint, now: Date.now() }, PERIOD);
  await store.close();
  return { pack, key: audit.verifierKey, ...seeded };
};

describe('evidence pack', () => {
  it('verifies offline: the log against the checkpoint, every report checkpoint, every policy text', async () => {
    const { pack, key } = await setup();
    const r = await verifyEvidencePack(pack, key);
    expect(r).toMatchObject({ leaves: 11, reports: 4, policyVersions: 3, incidents: 2 });
    expect(pack.reports.map((x) => x.report)).toEqual(['inventory', 'processing', 'ledger', 'access']);
  });

  it('fails on a changed log entry, a changed policy text, and a foreign key', async () => {
    const { pack, key } = await setup();
    const log = [...pack.log];
    log[2] = log[2]!.replace('"outcome":"delivered"', '"outcome":"blocked"');
    await expect(verifyEvidencePack({ ...pack, log }, key)).rejects.toThrow(/does not hash to its leafHash/);
    const policyVersions = pack.policyVersions.map((v, i) =>
      i === 0 ? { ...v, content: `${v.content}\n# edited` } : v,
    );
    await expect(verifyEvidencePack({ ...pack, policyVersions }, key)).rejects.toThrow(/the text was altered/);
    const other = await setup();
    await expect(verifyEvidencePack(pack, other.key)).rejects.toMatchObject({ code: 'SHK_AUDIT_SIGNATURE' });
  });
});

describe('evidence pack › incidents', () => {
  it('holds each incident opened, notified and closed, with its notice text, times and no identifier', async () => {
    const { pack, key, notified, closed, open } = await setup();
    expect((await verifyEvidencePack(pack, key)).incidents).toBe(2);
    const [a, b] = pack.incidents;
    expect(a).toMatchObject({
      id: closed.id,
      status: 'closed',
      summary: 'Backup tape lost',
      openedAt: closed.openedAt,
      noticeExportedAt: notified.noticeExportedAt,
      closedAt: closed.closedAt,
      dueAt: Date.parse('2026-11-30T19:00:00Z'),
      measures: ['tape encrypted', 'keys rotated'],
      oems: ['acme'],
      countries: ['DE'],
      persons: 3,
      vehicles: [{ pseudonyms: ['p-acme-A1'] }],
    });
    expect(a!.steps.map((s) => s.action)).toEqual(['opened', 'notice-exported', 'closed']);
    expect(a!.notice).toContain('Backup tape lost');
    expect(a!.notice).toContain(CONTACT);
    expect(a!.notice).toContain('tape encrypted; keys rotated');
    expect(a!.notice).toContain('2026-11-30T19:00:00.000Z');
    expect(b).toMatchObject({ id: open.id, status: 'open', noticeExportedAt: null, closedAt: null, overdue: true });
    expect(b!.steps.map((s) => s.action)).toEqual(['opened']);
    // The regulator's copy: no VIN, no person's identifier, anywhere in the pack's incidents.
    const text = JSON.stringify(pack.incidents);
    expect(text).not.toContain(VINS.a);
    expect(text).not.toContain('900101');
  });

  it('fails on a changed summary, notice, time or status, and on a dropped incident', async () => {
    const { pack, key } = await setup();
    const edit = (f: (i: Record<string, unknown>) => Record<string, unknown>): EvidencePack => ({
      ...pack,
      incidents: pack.incidents.map((i, n) => (n === 0 ? (f({ ...i }) as unknown as typeof i) : i)),
    });
    const cases: [EvidencePack, RegExp][] = [
      [edit((i) => ({ ...i, summary: 'Nothing happened' })), /summarySha256 differs from its last leaf/],
      [edit((i) => ({ ...i, measures: ['tape encrypted'] })), /measuresSha256 differs/],
      [edit((i) => ({ ...i, notice: `${String(i.notice)}\nadded` })), /the notice text is not the one/],
      [edit((i) => ({ ...i, closedAt: Number(i.closedAt) + 86_400_000 })), /its times are not those of its steps/],
      [edit((i) => ({ ...i, status: 'open' })), /status differs/],
      [{ ...pack, incidents: pack.incidents.slice(1) }, /is in the log but not in the pack/],
    ];
    for (const [bad, message] of cases) await expect(verifyEvidencePack(bad, key)).rejects.toThrow(message);
  });
});
