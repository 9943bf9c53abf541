/** Published schema, reload with history, dry run and diff. */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { policyJsonSchema } from '../../src/policy/json-schema.js';
import { createPolicyEngine, parsePolicy } from '../../src/policy/index.js';
import { dryRun } from '../../src/policy/dry-run.js';
import { diffPolicies } from '../../src/policy/diff.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { onePurpose, rec, writePolicy } from './helpers.js';

describe('the published JSON Schema (docs/policy.schema.json)', () => {
  it('is exactly what the TypeBox schema generates (regenerate: shekara policy schema > docs/policy.schema.json)', () => {
    expect(readFileSync('docs/policy.schema.json', 'utf8')).toBe(policyJsonSchema());
  });

  it('accepts the example policy and rejects an unknown key, with any JSON Schema tool', () => {
    const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync('docs/policy.schema.json', 'utf8')));
    expect(validate(parse(readFileSync('examples/policies/demo-oem.yaml', 'utf8')))).toBe(true);
    expect(
      validate({
        oem: 'x',
        purposes: [{ id: 'a', description: 'd', fields: { 'Vehicle.Speed': 'pass' }, consent: true }],
      }),
    ).toBe(false);
  });
});

describe('reload', () => {
  it('activates a new version, records it in the history, and keeps the previous one when the new file is invalid', async () => {
    const store = openSqliteStore(':memory:');
    const file = writePolicy(onePurpose('      Vehicle.Speed: pass\n'));
    const engine = await createPolicyEngine(
      { oems: [{ id: 'acme', policyFile: file }], epochDays: 30 },
      { masterKey: Buffer.alloc(32), history: store, now: () => 1000 },
    );
    const v1 = engine.policyOf('acme')!.hash;
    expect(await engine.reload()).toEqual({ changed: [], unchanged: ['acme'] });

    writeFileSync(
      file,
      onePurpose('      Vehicle.Speed: pass\n      Vehicle.TraveledDistance: { transform: round, step: 100 }\n'),
    );
    const r = await engine.reload();
    const v2 = engine.policyOf('acme')!.hash;
    expect(r.changed).toEqual([{ oem: 'acme', from: v1, to: v2, droppedHeld: 0 }]);

    writeFileSync(file, onePurpose('      Vehicle.Speed: pass\n      Vehicle.TraveledDistance: smudge\n'));
    await expect(engine.reload()).rejects.toThrow(
      expect.objectContaining({
        code: 'SHK_POLICY_UNKNOWN_TRANSFORM',
        message: expect.stringContaining(
          `${file}:7 purposes.0.fields.Vehicle.TraveledDistance: unknown transform "smudge"`,
        ),
      }),
    );
    expect(engine.policyOf('acme')!.hash).toBe(v2);
    expect((await engine.project(rec({ 'Vehicle.TraveledDistance': 1234 })))[0]!.signals).toEqual({
      'Vehicle.TraveledDistance': 1200,
    });

    const history = await store.listPolicyActivations('acme');
    expect(history.map((h) => h.policyHash)).toEqual([v2, v1]);
    expect(history[1]!.content).toBe(onePurpose('      Vehicle.Speed: pass\n'));
    await store.close();
  });
});

describe('dry run', () => {
  const policy = parsePolicy(
    onePurpose(
      '      Vehicle.Speed: { transform: round, step: 10 }\n      Vehicle.VehicleIdentification.VIN: pseudonymize\n',
    ),
    'acme.yaml',
  );

  it('shows per record what would leave and what not, and sums it up', () => {
    const lines = [
      JSON.stringify({
        vin: 'LSHKZ000000000001',
        ts: '2026-11-23T10:00:00Z',
        speed: 54,
        position: { lat: 43.2, lon: 76.9 },
        account: { owner: { name: 'Asel' } },
        hu_firmware: 'x',
      }),
      '{ not json',
      JSON.stringify({ vin: 'LSHKZ000000000001', odometer: 5 }),
    ];
    const { records, summary } = dryRun(policy, lines);
    expect(records[0]!.projections[0]!.signals['Vehicle.Speed']).toBe(50);
    expect(records[0]!.projections[0]!.decision!.fields['Account.Owner.Name']!.outcome).toBe('dropped');
    expect(records[1]!.error).toMatch(/does not decode/);
    expect(records[2]!.withheld[0]!.reason).toBe('nothing to send');
    expect(summary).toMatchObject({ records: 3, invalid: 1, sent: { p1: 1 } });
    expect(summary.neverSent).toEqual(
      expect.arrayContaining([
        'Account.Owner.Name',
        'Vehicle.CurrentLocation.Latitude',
        '$unknown.hu_firmware',
        'Vehicle.TraveledDistance',
      ]),
    );
    expect(summary.neverSent).not.toContain('Vehicle.Speed');
  });
});

describe('diff', () => {
  it('names what a change opens and what it closes', () => {
    const a = parsePolicy(
      `oem: acme\npurposes:\n  - id: p1\n    description: d\n    legalBasis: consent\n    fields:\n      Vehicle.Speed: pass\n      Vehicle.TraveledDistance: pass\n  - id: old\n    description: d\n    fields: { Vehicle.Speed: pass }\n`,
      'a.yaml',
    );
    const b = parsePolicy(
      `oem: acme\npurposes:\n  - id: p1\n    description: d\n    legalBasis: contract\n    fields:\n      Vehicle.Speed: { transform: round, step: 5 }\n      Account.Owner.Email: { transform: pseudonymize, reason: recall contact }\n  - id: new\n    description: d\n    fields: { Vehicle.Cabin.*: pass }\n`,
      'b.yaml',
    );
    const lines = diffPolicies(a, b).map((l) => `${l.effect} ${l.purpose}: ${l.what}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        'changes p1: Vehicle.Speed: pass → round {"step":5}',
        'opens p1: Account.Owner.Email: pseudonymize',
        'opens p1: Account.Owner.Email sends identifier data (recall contact)',
        'closes p1: Vehicle.TraveledDistance: pass removed',
        'opens p1: consent required: true → false',
        'opens new: new purpose, sends Vehicle.Cabin.*',
        'closes old: purpose removed',
      ]),
    );
  });
});
