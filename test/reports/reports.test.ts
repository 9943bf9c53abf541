/**
 * The reports on a seeded store of each backend: every figure equals what the seed put there
 * (test/reports/seed.ts), the threshold alerts fire exactly where a counter reaches its
 * threshold, and the checkpoint a report carries verifies and bounds what it counted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createAuditLog } from '../../src/audit/index.js';
import { createLogger } from '../../src/log.js';
import { parseAndVerifyCheckpoint, parseVerifierKey } from '../../src/audit/checkpoint.js';
import { reportHtml, runReport, type Ledger } from '../../src/reports/index.js';
import type { Store } from '../../src/store/types.js';
import { backends, useBackend } from '../store/backends.js';
import { PERIOD, seedStore, VINS } from './seed.js';

const config = parseConfig(
  'reports: { thresholds: { persons: 5, sensitivePersons: 3 } }\n',
  'test.yaml',
  mkdtempSync(path.join(tmpdir(), 'shekara-reports-')),
);

async function signed(store: Store) {
  const audit = await createAuditLog(
    { origin: 'test.example/log', checkpointIntervalMs: 3_600_000 },
    { store, log: createLogger('silent') },
  );
  const cp = await audit.checkpointNow();
  await audit.close();
  return { cp, verifierKey: audit.verifierKey };
}

describe.each(backends())('reports on a seeded store: $name', (backend) => {
  const { fresh } = useBackend(backend);
  const setup = async () => {
    const store = await fresh();
    const seeded = await seedStore(store);
    const { cp, verifierKey } = await signed(store);
    const deps = {
      store,
      config: { ...config, audit: { ...config.audit, origin: 'test.example/log' } },
      checkpoint: cp,
      now: Date.UTC(2031, 5, 1),
    };
    return { store, seeded, cp, verifierKey, deps };
  };

  it('the ledger counts records, bytes, distinct vehicles and persons, blocked and dead-lettered as seeded', async () => {
    const { seeded, deps } = await setup();
    const env = await runReport('ledger', PERIOD, deps);
    const d = env.data as Ledger;
    const b = seeded.bytes;
    expect(d.rows).toEqual([
      // VIN a: owner bound as cust-1, owner national id, driver licence (3 persons); VIN b: owner national id (1).
      {
        oem: 'acme',
        country: 'DE',
        purpose: 'loc',
        category: 'location',
        records: 1,
        bytes: b['a-loc'],
        vehicles: 1,
        persons: 3,
        blocked: 0,
        failed: 0,
        deadLettered: 0,
      },
      {
        oem: 'acme',
        country: 'DE',
        purpose: 'loc',
        category: 'technical',
        records: 1,
        bytes: b['a-loc'],
        vehicles: 1,
        persons: 3,
        blocked: 0,
        failed: 0,
        deadLettered: 0,
      },
      {
        oem: 'acme',
        country: 'DE',
        purpose: 'speed',
        category: 'technical',
        records: 2,
        bytes: b['a-speed']! + b['b-speed']!,
        vehicles: 2,
        persons: 4,
        blocked: 1,
        failed: 0,
        deadLettered: 0,
      },
      {
        oem: 'bolt',
        country: 'CN',
        purpose: 'speed',
        category: 'technical',
        records: 1,
        bytes: b['c-speed'],
        vehicles: 1,
        persons: 1,
        blocked: 0,
        failed: 0,
        deadLettered: 1,
      },
    ]);
    expect(d.totals).toEqual([
      {
        scope: 'oem:acme',
        records: 3,
        bytes: b['a-speed']! + b['a-loc']! + b['b-speed']!,
        vehicles: 2,
        persons: 4,
        sensitivePersons: 3,
      },
      { scope: 'oem:bolt', records: 1, bytes: b['c-speed'], vehicles: 1, persons: 1, sensitivePersons: 0 },
      {
        scope: 'all',
        records: 4,
        bytes: b['a-speed']! + b['a-loc']! + b['b-speed']! + b['c-speed']!,
        vehicles: 3,
        persons: 5,
        sensitivePersons: 3,
      },
    ]);
    expect(d.unresolvedRecords).toBe(0);
  });

  it('raises an alert exactly where a counter reaches its threshold', async () => {
    const { deps } = await setup();
    const d = (await runReport('ledger', PERIOD, deps)).data as Ledger;
    expect(d.alerts).toEqual([
      { scope: 'oem:acme', counter: 'sensitivePersons', value: 3, threshold: 3 },
      { scope: 'all', counter: 'persons', value: 5, threshold: 5 },
      { scope: 'all', counter: 'sensitivePersons', value: 3, threshold: 3 },
    ]);
    const higher = {
      ...deps,
      config: {
        ...deps.config,
        reports: { thresholds: { persons: 6, sensitivePersons: 4, vehicles: 0, records: 0, bytes: 0 } },
      },
    };
    expect(((await runReport('ledger', PERIOD, higher)).data as Ledger).alerts).toEqual([]);
  });

  it('carries a checkpoint that verifies, and counts nothing appended after it', async () => {
    const { store, cp, verifierKey, deps } = await setup();
    const env = await runReport('ledger', PERIOD, deps);
    const checked = parseAndVerifyCheckpoint(env.checkpoint.note, parseVerifierKey(verifierKey));
    expect(checked.size).toBe(cp.size);
    expect(checked.rootHash.toString('base64')).toBe(env.checkpoint.rootHash);
    // A delivery logged after the checkpoint is not in a report computed against it.
    await seedMore(store);
    const again = (await runReport('ledger', PERIOD, deps)).data as Ledger;
    expect(again.totals.at(-1)!.records).toBe(4);
  });

  it('the inventory states the store and counts each category as seeded', async () => {
    const { deps } = await setup();
    const env = await runReport('inventory', {}, deps);
    const d = env.data as {
      counts: Record<string, number>;
      copiedAbroad: { oem: string; allowedCountries: string[] }[];
      store: { kind: string };
    };
    expect(d.store.kind).toBe('sqlite'); // the config's kind: the report states the configured store
    expect(d.counts).toMatchObject({
      vehicles: 3,
      records: 7,
      routePoints: 1,
      accountData: 5, // vehicle c's records carry no account data
      ownerBindings: 2,
      egressLog: 7,
      auditLeaves: 7,
    });
    expect(d.copiedAbroad.map((o) => [o.oem, o.allowedCountries])).toEqual([
      ['acme', ['DE']],
      ['bolt', ['CN']],
    ]);
    expect(reportHtml(env)).toContain('<td class="n">7</td>');
  });

  it('the processing record lists each OEM purpose, its fields, countries allowed and observed, versions and changes', async () => {
    const { deps } = await setup();
    const env = await runReport('processing', { since: '2030-01-15T00:00:00Z' }, deps);
    const d = env.data as {
      purposes: {
        oem: string;
        purpose: string;
        legalBasis: string;
        consentRequired: boolean;
        consentMaxDays: number;
        fields: { selector: string; category: string }[];
        allowedCountries: string[];
        observedCountries: string[];
        retentionAtOem: string | null;
      }[];
      versions: unknown[];
      changes: { oem: string; lines: { effect: string; purpose: string; what: string }[] }[];
    };
    expect(
      d.purposes.map((p) => [
        p.oem,
        p.purpose,
        p.legalBasis,
        p.consentRequired,
        p.observedCountries,
        p.allowedCountries,
        p.retentionAtOem,
      ]),
    ).toEqual([
      ['acme', 'speed', 'contract', false, ['DE'], ['DE'], 'P30D'],
      ['acme', 'loc', 'consent', true, ['DE'], ['DE'], null],
      ['bolt', 'speed', 'contract', false, ['CN'], ['CN'], null],
    ]);
    expect(d.purposes[0]!.fields.map((f) => f.selector)).toEqual(['Vehicle.Speed', 'Vehicle.TraveledDistance']);
    expect(d.purposes[1]!.fields).toContainEqual({
      selector: 'Vehicle.CurrentLocation',
      transform: expect.any(String),
      category: 'location',
    });
    expect(d.purposes[1]!.consentMaxDays).toBe(90);
    expect(d.versions).toHaveLength(3);
    // Only acme's second version was activated after the 15th, and it opened one field.
    expect(d.changes.map((c) => c.oem)).toEqual(['acme']);
    expect(d.changes[0]!.lines).toEqual([expect.objectContaining({ effect: 'opens', purpose: 'speed' })]);
  });

  it('refuses a parameter the report does not take, and an unknown report, by name', async () => {
    const { deps } = await setup();
    await expect(runReport('inventory', { from: '2030-01-01' }, deps)).rejects.toThrow(
      /inventory takes no parameters; not from/,
    );
    await expect(runReport('nope', {}, deps)).rejects.toMatchObject({ code: 'SHK_NOT_FOUND' });
  });
});

async function seedMore(store: Store) {
  const { item, projection, record, entry } = await import('../store/backends.js');
  const r = record({ vin: VINS.a, receivedAt: Date.UTC(2030, 0, 20) });
  await store.commitIngest([item(r, [{ ...projection(r, { oem: 'acme', purpose: 'speed' }) }])]);
  const row = (await store.dueOutboxHeads(Date.UTC(2030, 0, 21), 1_000)).find((x) => x.recordId === r.id)!;
  await store.settleOutbox([{ kind: 'delivered', outboxId: row.id, entry: entry(row, { at: Date.UTC(2030, 0, 20) }) }]);
}
