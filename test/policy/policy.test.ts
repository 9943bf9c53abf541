import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadPolicyFile, parsePolicy } from '../../src/policy/index.js';
import { ShekaraError } from '../../src/errors.js';
import { engineFor, onePurpose, rec, VIN, LAT, LON } from './helpers.js';

const full = () =>
  rec(
    { 'Vehicle.Speed': 50, [LAT]: 43.2, [LON]: 76.9 },
    {
      account: { 'Account.Owner.Email': 'a@b.kz', 'Account.Owner.Name': 'Asel' },
      unknownKeys: ['hu_firmware'],
    },
  );

const rejection = (text: string): ShekaraError => {
  try {
    parsePolicy(text, 'acme.yaml');
  } catch (err) {
    return err as ShekaraError;
  }
  throw new Error('policy was accepted');
};

describe('policy', () => {
  describe('when a field is not listed', () => {
    it('is never sent, is named among the dropped fields, and the decision says why', async () => {
      const [p] = await (await engineFor(onePurpose('      Vehicle.Speed: pass\n'))).project(full());
      expect(p!.signals).toEqual({ 'Vehicle.Speed': 50 });
      expect(p!.fieldsSent).toEqual(['Vehicle.Speed']);
      expect(p!.fieldsDropped).toEqual([
        'Vehicle.VehicleIdentification.VIN',
        LAT,
        LON,
        'Account.Owner.Email',
        'Account.Owner.Name',
        '$unknown.hu_firmware',
      ]);
      expect(p!.decision!.fields['Vehicle.Speed']).toEqual({ outcome: 'passed', reason: 'passed' });
      expect(p!.decision!.fields[LAT]).toEqual({ outcome: 'dropped', reason: 'not listed' });
      expect(p!.decision!.fields['Account.Owner.Email']!.reason).toMatch(/^not listed/);
      expect(p!.decision!.fields['$unknown.hu_firmware']!.outcome).toBe('dropped');
    });
  });

  it('sends an account field only when the policy names it', async () => {
    const [p] = await (
      await engineFor(
        onePurpose(
          '      Vehicle.Speed: pass\n      Account.Owner.Email: { transform: pseudonymize, reason: contact for recalls }\n',
        ),
      )
    ).project(full());
    expect(Object.keys(p!.signals)).toEqual(['Vehicle.Speed', 'Account.Owner.Email']);
    expect(p!.signals['Account.Owner.Email']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(p!.decision!.fields['Account.Owner.Name']!.outcome).toBe('dropped');
  });

  it('sends nothing for a purpose whose only field present is the pseudonymized VIN', async () => {
    const engine = await engineFor(
      onePurpose('      Vehicle.VehicleIdentification.VIN: pseudonymize\n      Vehicle.Cabin.Door: pass\n'),
    );
    expect(await engine.project(full())).toEqual([]);
    expect((await engine.explain(full())).withheld).toEqual([
      expect.objectContaining({ purpose: 'p1', reason: 'nothing to send' }),
    ]);
  });

  it('carries the sha256 of the policy file bytes on every projection', async () => {
    const text = onePurpose('      Vehicle.Speed: pass\n');
    const [p] = await (await engineFor(text)).project(full());
    expect(p!.policyHash).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);
  });

  it('keeps the decision out of what the OEM receives', async () => {
    const { projectionBody } = await import('../../src/store/outbox/rows.js');
    const [p] = await (await engineFor(onePurpose('      Vehicle.Speed: pass\n'))).project(full());
    expect(JSON.parse(projectionBody(p!))).not.toHaveProperty('decision');
  });

  describe('wildcards', () => {
    const record = () =>
      rec(
        {
          'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 80,
          'Vehicle.Powertrain.Range': 300,
          'Vehicle.Powertrain.TractionBattery.Temperature.Max': 31,
          'Vehicle.Speed': 40,
          [LAT]: 43.2,
          [LON]: 76.9,
        },
        { account: { 'Account.Owner.Email': 'a@b.kz' } },
      );

    it('** selects every depth below, * one level, the more specific rule wins', async () => {
      const engine = await engineFor(
        onePurpose(
          '      Vehicle.Powertrain.**: pass\n      Vehicle.Powertrain.TractionBattery.*: drop\n      Vehicle.Powertrain.TractionBattery.Temperature.*: { transform: round, step: 10 }\n',
        ),
      );
      const [p] = await engine.project(record());
      expect(p!.signals).toEqual({
        'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 80,
        'Vehicle.Powertrain.Range': 300,
        'Vehicle.Powertrain.TractionBattery.Temperature.Max': 30,
      });
    });

    it('never select the VIN, the raw position or an account field', async () => {
      const [p] = await (await engineFor(onePurpose('      Vehicle.**: pass\n'))).project(record());
      expect(Object.keys(p!.signals)).not.toContain('Vehicle.VehicleIdentification.VIN');
      expect(Object.keys(p!.signals)).not.toContain(LAT);
      expect(Object.keys(p!.signals)).not.toContain(LON);
      expect(JSON.stringify(p!.signals)).not.toContain('a@b.kz');
      expect(p!.signals['Vehicle.Speed']).toBe(40);
    });
  });

  describe('transforms', () => {
    const one = async (rule: string, value: number | string, path = 'Vehicle.X.Y') =>
      (
        await (
          await engineFor(onePurpose(`      ${path}: ${rule}\n      Vehicle.Speed: pass\n`))
        ).project(rec({ [path]: value, 'Vehicle.Speed': 1 }))
      )[0]!;

    it('round sends the nearest multiple of the step and says so', async () => {
      const p = await one('{ transform: round, step: 5 }', 52.6);
      expect(p.signals['Vehicle.X.Y']).toBe(55);
      expect(p.decision!.fields['Vehicle.X.Y']).toEqual({ outcome: 'transformed', reason: 'rounded to step 5' });
      expect((await one('{ transform: round, step: 0.1 }', 0.26)).signals['Vehicle.X.Y']).toBe(0.3);
    });

    it('round does not send a value that is not a number', async () => {
      const p = await one('{ transform: round, step: 5 }', 'fifty');
      expect(p.signals).not.toHaveProperty('Vehicle.X.Y');
      expect(p.fieldsDropped).toContain('Vehicle.X.Y');
    });

    it('bucket floors a timestamp, in the form it came', async () => {
      expect((await one('{ transform: bucket, size: PT1H }', '2026-11-23T18:24:33.707Z')).signals['Vehicle.X.Y']).toBe(
        '2026-11-23T18:00:00.000Z',
      );
      expect((await one('{ transform: bucket, size: PT1M }', 1_795_000_012_345)).signals['Vehicle.X.Y']).toBe(
        1_794_999_960_000,
      );
    });

    it('map translates listed values and drops the rest', async () => {
      const rule = '{ transform: map, values: { PARK: stopped, DRIVE: moving } }';
      expect((await one(rule, 'DRIVE')).signals['Vehicle.X.Y']).toBe('moving');
      expect((await one(rule, 'LIMP_HOME')).signals).not.toHaveProperty('Vehicle.X.Y');
    });

    it('a purpose can bucket the time it reports', async () => {
      const engine = await engineFor(onePurpose('      Vehicle.Speed: pass\n', '    timeBucket: PT1H\n'));
      const [p] = await engine.project(rec({ 'Vehicle.Speed': 1 }, { observedAt: Date.parse('2026-11-23T18:24:33Z') }));
      expect(new Date(p!.observedAt).toISOString()).toBe('2026-11-23T18:00:00.000Z');
    });
  });

  describe('at load, it rejects with file, line, path and reason', () => {
    it('an unknown transform', () => {
      const err = rejection(onePurpose('      Vehicle.Speed: pass\n      Vehicle.TraveledDistance: blur\n'));
      expect(err.code).toBe('SHK_POLICY_UNKNOWN_TRANSFORM');
      expect(err.message).toContain('acme.yaml:7 purposes.0.fields.Vehicle.TraveledDistance: unknown transform "blur"');
      expect(err.details).toMatchObject({
        file: 'acme.yaml',
        line: 7,
        path: 'purposes.0.fields.Vehicle.TraveledDistance',
      });
    });

    it('the VIN under any transform but pseudonymize or drop', () => {
      const err = rejection(onePurpose('      Vehicle.VehicleIdentification.VIN: pass\n'));
      expect(err.code).toBe('SHK_POLICY_UNSAFE');
      expect(err.message).toContain(
        'acme.yaml:6 purposes.0.fields.Vehicle.VehicleIdentification.VIN: the VIN may only be pseudonymized or dropped',
      );
    });

    it('a path that is not a signal path', () => {
      expect(rejection(onePurpose('      speed: pass\n')).message).toContain(
        'acme.yaml:6 purposes.0.fields.speed: not a signal path',
      );
      expect(rejection(onePurpose('      Vehicle.**.Speed: pass\n')).message).toContain(
        'acme.yaml:6 purposes.0.fields.Vehicle.**.Speed: not a signal path or wildcard',
      );
    });

    it('a wildcard that opens the account section without naming its fields', () => {
      const err = rejection(onePurpose('      Vehicle.Speed: pass\n      Account.Owner.*: pass\n'));
      expect(err.code).toBe('SHK_POLICY_UNSAFE');
      expect(err.message).toContain(
        'acme.yaml:7 purposes.0.fields.Account.Owner.*: a wildcard may not open the account section',
      );
      expect(rejection(onePurpose('      Account.**: pseudonymize\n')).code).toBe('SHK_POLICY_UNSAFE');
      expect(() =>
        parsePolicy(onePurpose('      Vehicle.Speed: pass\n      Account.**: drop\n'), 'acme.yaml'),
      ).not.toThrow();
    });

    it('noise with epsilon <= 0', () => {
      for (const eps of ['0', '-0.01']) {
        const err = rejection(
          onePurpose(
            `      Vehicle.Speed: pass\n      Vehicle.CurrentLocation: { transform: noise, epsilon: ${eps} }\n`,
          ),
        );
        expect(err.code).toBe('SHK_POLICY_INVALID');
        expect(err.message).toContain(
          `acme.yaml:7 purposes.0.fields.Vehicle.CurrentLocation: epsilon must be a number greater than 0, got ${Number(eps)}`,
        );
      }
    });

    it('a location transform anywhere but on Vehicle.CurrentLocation, and k-anonymity without cells', () => {
      expect(
        rejection(onePurpose('      Vehicle.CurrentLocation.Latitude: { transform: generalize }\n')).message,
      ).toContain('name it on Vehicle.CurrentLocation');
      expect(
        rejection(
          onePurpose(
            '      Vehicle.CurrentLocation: { transform: noise, epsilon: 0.01 }\n',
            '    kAnonymity: { k: 5 }\n',
          ),
        ).message,
      ).toContain('acme.yaml:5 purposes.0.kAnonymity: k-anonymity counts vehicles per generalized cell');
    });

    it('a consent purpose that does not require consent', () => {
      const err = rejection(
        onePurpose('      Vehicle.Speed: pass\n', '    legalBasis: consent\n    consentRequired: false\n'),
      );
      expect(err.code).toBe('SHK_POLICY_UNSAFE');
      expect(err.message).toContain(
        'acme.yaml:6 purposes.0.consentRequired: a purpose whose legal basis is consent must require consent',
      );
    });

    it('an unknown key in a purpose, an option a transform does not take, a bad duration', () => {
      expect(
        rejection(
          `oem: acme\npurposes:\n  - id: p1\n    description: d\n    consent: yes\n    fields: { Vehicle.Speed: pass }\n`,
        ).message,
      ).toContain('acme.yaml:5 purposes.0.consent: unknown key');
      expect(rejection(onePurpose('      Vehicle.Speed: { transform: pass, step: 5 }\n')).message).toContain(
        'purposes.0.fields.Vehicle.Speed.step: unknown option',
      );
      expect(rejection(onePurpose('      Vehicle.Speed: pass\n', '    minInterval: 30s\n')).message).toContain(
        'acme.yaml:5 purposes.0.minInterval: must match pattern',
      );
    });

    it('a policy with no purposes', () => {
      expect(rejection('oem: acme\npurposes: []\n').message).toContain(
        'acme.yaml:2 purposes: must NOT have fewer than 1 items',
      );
    });
  });

  it('never lets the raw VIN out, even pseudonymized into a field', async () => {
    const [p] = await (
      await engineFor(onePurpose('      Vehicle.VehicleIdentification.VIN: pseudonymize\n      Vehicle.Speed: pass\n'))
    ).project(full());
    expect(JSON.stringify(p)).not.toContain(VIN);
    expect(p!.signals['Vehicle.VehicleIdentification.VIN']).toBe(p!.vehicle);
  });
});

describe('policy › a policy file that cannot be read', () => {
  it('is SHK_POLICY_INVALID naming the file and why, as a config file is SHK_CONFIG_FILE', () => {
    expect(() => loadPolicyFile('/nonexistent/acme.yaml')).toThrow(
      expect.objectContaining({
        code: 'SHK_POLICY_INVALID',
        message: expect.stringMatching(/^cannot read policy file \/nonexistent\/acme\.yaml: ENOENT/),
      }),
    );
  });
});
