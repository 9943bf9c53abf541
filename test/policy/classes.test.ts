/**
 * Policies by privacy class: wildcards select technical catalog signals only, non-technical
 * signals need their exact path and a reason, and every position goes through the location
 * rules. The red-team review's M6 policy is the first case.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsePolicy } from '../../src/policy/index.js';
import { diffPolicies } from '../../src/policy/diff.js';
import { createCatalog, PRIVACY_CLASSES, type PrivacyClass } from '../../src/catalog/index.js';
import type { ShekaraError } from '../../src/errors.js';
import { engineFor, onePurpose, rec } from './helpers.js';
import { createEvaluator } from '../../src/policy/evaluate.js';
import type { Projection } from '../../src/record.js';

const rejection = (text: string): ShekaraError => {
  try {
    parsePolicy(text, 'acme.yaml');
  } catch (err) {
    return err as ShekaraError;
  }
  throw new Error('policy was accepted');
};

describe('policy classes', () => {
  it('refuses the review M6 policy with the line and the reason', () => {
    const err = rejection(
      onePurpose(
        '      Vehicle.Powertrain.**: pass\n      Vehicle.Cabin.**: pass\n      Vehicle.VehicleIdentification.**: pass\n      Vehicle.Speed: pass\n',
      ),
    );
    expect(err.code).toBe('SHK_POLICY_UNSAFE');
    expect(err.message).toContain(
      'acme.yaml:8 purposes.0.fields.Vehicle.VehicleIdentification.**: Vehicle.VehicleIdentification is a branch of class identifier',
    );
  });

  it('a wildcard never selects free text, positions or identifiers, even in a technical branch (M6)', async () => {
    const engine = await engineFor(onePurpose('      Vehicle.Powertrain.**: pass\n      Vehicle.Cabin.**: pass\n'));
    const [p] = await engine.project(
      rec({
        'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 80,
        'Vehicle.Powertrain.Note': 'Ivan Petrov +77011234567 IIN 900101300123',
        'Vehicle.Powertrain.TractionBattery.Lat': 43.238949,
        'Vehicle.Cabin.Infotainment.Navigation.DestinationSet.Latitude': 43.238949,
        'Vehicle.Cabin.Infotainment.Navigation.DestinationSet.Longitude': 76.889709,
        'Vehicle.Powertrain.TractionBattery.Id': 'BAT-123',
        'Vehicle.Powertrain.CombustionEngine.EngineCode': 'Ivan',
        'Vehicle.Cabin.Infotainment.Media.Played.Artist': 'x',
      }),
    );
    expect(p!.signals).toEqual({ 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 80 });
  });

  it('names identifier, personal, free-text and sensitive data only by exact path with a reason', () => {
    for (const path of [
      'Account.Owner.Email',
      'Vehicle.Driver.HeartRate',
      'Vehicle.Powertrain.CombustionEngine.EngineCode',
      'Vehicle.Cabin.Infotainment.Media.Played.Artist',
    ]) {
      const err = rejection(onePurpose(`      ${path}: pass\n`));
      expect(err.code).toBe('SHK_POLICY_UNSAFE');
      expect(err.message).toMatch(/leaves only with a stated reason/);
      expect(() =>
        parsePolicy(onePurpose(`      ${path}: { transform: pass, reason: the owner asked }\n`), 'a.yaml'),
      ).not.toThrow();
    }
    expect(rejection(onePurpose('      Vehicle.Driver.*: pass\n')).message).toMatch(/branch of class sensitive/);
  });

  it('sends the position raw only with a reason, and other positions not at all', () => {
    expect(rejection(onePurpose('      Vehicle.CurrentLocation.Latitude: pass\n')).message).toMatch(
      /without generalization/,
    );
    expect(
      rejection(
        onePurpose(
          '      Vehicle.Cabin.Infotainment.Navigation.DestinationSet.Latitude: { transform: pass, reason: r1 r2 }\n',
        ),
      ).message,
    ).toMatch(/no location rules/);
  });

  it('policy check lists each line that sends non-technical data; diff shows it', () => {
    const a = parsePolicy(onePurpose('      Vehicle.Speed: pass\n'), 'a.yaml');
    const b = parsePolicy(
      onePurpose(
        '      Vehicle.Speed: pass\n      Vehicle.VehicleIdentification.VIN: pseudonymize\n      Account.Owner.Email: { transform: pseudonymize, reason: recall letters }\n',
      ),
      'b.yaml',
    );
    expect(b.named).toEqual([
      expect.objectContaining({
        selector: 'Vehicle.VehicleIdentification.VIN',
        class: 'identifier',
        reason: undefined,
      }),
      expect.objectContaining({ selector: 'Account.Owner.Email', class: 'identifier', reason: 'recall letters' }),
    ]);
    const lines = diffPolicies(a, b).map((l) => `${l.effect} ${l.purpose}: ${l.what}`);
    expect(lines).toContain('opens p1: Account.Owner.Email sends identifier data (recall letters)');
  });
});

describe('policy classes, for any catalog extension and payload', () => {
  it('a wildcard sends only technical catalog signals', async () => {
    const seg = fc.stringMatching(/^[A-Z][a-z]{1,6}$/);
    const ext = fc.array(fc.record({ name: seg, cls: fc.constantFrom(...PRIVACY_CLASSES) }), {
      minLength: 1,
      maxLength: 8,
    });
    await fc.assert(
      fc.asyncProperty(ext, fc.array(seg, { maxLength: 4 }), async (exts, junk) => {
        const extensions = exts.map((e) => ({
          path: `Vehicle.Private.${e.name}`,
          datatype: 'float',
          class: e.cls === 'location' ? ('technical' as PrivacyClass) : e.cls,
        }));
        const catalog = createCatalog({ extensions });
        const policy = parsePolicy(
          onePurpose('      Vehicle.Private.**: pass\n      Vehicle.**: pass\n'),
          'p.yaml',
          catalog,
        );
        const ev = createEvaluator(policy);
        const signals: Record<string, number> = {};
        for (const e of extensions) signals[e.path] = 1;
        for (const j of junk) signals[`Vehicle.Private.Junk.${j}`] = 2;
        const out: Projection[] = [];
        ev.evaluate(rec(signals), 'pseudo', { random: () => 0.5, pseudonymize: (v: string) => v }, out);
        for (const p of out)
          for (const path of Object.keys(p.signals)) {
            expect(catalog.lookup(path)?.class).toBe('technical');
          }
      }),
      { numRuns: 60 },
    );
  });
});
