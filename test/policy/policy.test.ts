import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/policy/index.js';
import { createPseudonymizer } from '../../src/policy/pseudonym.js';
import { ShekaraError } from '../../src/errors.js';
import type { CanonicalRecord } from '../../src/record.js';

const VIN = 'LSHKZ000000000001';
const record: CanonicalRecord = {
  id: 'rec-1', vin: VIN, oem: 'acme', channel: 'mqtt', receivedAt: 1_795_000_000_000, observedAt: 1_795_000_000_000,
  signals: { 'Vehicle.VehicleIdentification.VIN': VIN, 'Vehicle.Speed': 50, 'Vehicle.CurrentLocation.Latitude': 43.2 },
  account: { 'Account.Owner.Email': 'a@b.kz', 'Account.Owner.Name': 'Asel' },
  unknownKeys: ['hu_firmware'],
};
const ctx = { pseudonymize: (v: string) => `p(${v.length})` };

const policy = (fields: string) => `oem: acme\npurposes:\n  - id: p1\n    description: test\n    fields:\n${fields}`;
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
    it('is never sent, and is named among the dropped fields', () => {
      const [p] = parsePolicy(policy('      Vehicle.Speed: pass\n'), 'acme.yaml').evaluate(record, 'PSEUDO', ctx);
      expect(p!.signals).toEqual({ 'Vehicle.Speed': 50 });
      expect(p!.fieldsSent).toEqual(['Vehicle.Speed']);
      expect(p!.fieldsDropped).toEqual(['Vehicle.VehicleIdentification.VIN', 'Vehicle.CurrentLocation.Latitude', 'Account.Owner.Email', 'Account.Owner.Name', '$unknown.hu_firmware']);
    });
  });

  it('sends an account field only when the policy names it', () => {
    const [p] = parsePolicy(policy('      Vehicle.Speed: pass\n      Account.Owner.Email: pseudonymize\n'), 'acme.yaml').evaluate(record, 'PSEUDO', ctx);
    expect(p!.signals).toEqual({ 'Vehicle.Speed': 50, 'Account.Owner.Email': 'p(6)' });
  });

  it('sends nothing for a purpose whose only field present is the pseudonymized VIN', () => {
    const out = parsePolicy(policy('      Vehicle.VehicleIdentification.VIN: pseudonymize\n      Vehicle.Cabin.Door: pass\n'), 'acme.yaml').evaluate(record, 'PSEUDO', ctx);
    expect(out).toEqual([]);
  });

  it('carries the sha256 of the policy file bytes on every projection', () => {
    const text = policy('      Vehicle.Speed: pass\n');
    const [p] = parsePolicy(text, 'acme.yaml').evaluate(record, 'PSEUDO', ctx);
    expect(p!.policyHash).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);
  });

  describe('at load, it rejects with file, line, path and reason', () => {
    it('an unknown transform', () => {
      const err = rejection(policy('      Vehicle.Speed: pass\n      Vehicle.TraveledDistance: blur\n'));
      expect(err.code).toBe('SHK_POLICY_UNKNOWN_TRANSFORM');
      expect(err.message).toContain('acme.yaml:7 purposes.0.fields.Vehicle.TraveledDistance: unknown transform "blur"');
    });

    it('the VIN under any transform but pseudonymize or drop', () => {
      const err = rejection(policy('      Vehicle.VehicleIdentification.VIN: pass\n'));
      expect(err.code).toBe('SHK_POLICY_UNSAFE');
      expect(err.message).toContain('acme.yaml:6 purposes.0.fields.Vehicle.VehicleIdentification.VIN: the VIN may only be pseudonymized or dropped');
    });

    it('a path that is not a signal path', () => {
      expect(rejection(policy('      speed: pass\n')).message).toContain('acme.yaml:6 purposes.0.fields.speed: not a signal path');
    });

    it('an unknown key in a purpose', () => {
      expect(rejection(`oem: acme\npurposes:\n  - id: p1\n    description: d\n    consent: yes\n    fields: { Vehicle.Speed: pass }\n`).message)
        .toContain('acme.yaml:5 purposes.0.consent: unknown key');
    });

    it('an option a transform does not take', () => {
      expect(rejection(policy('      Vehicle.Speed: { transform: pass, step: 5 }\n')).message).toContain('purposes.0.fields.Vehicle.Speed.step: unknown option');
    });

    it('a policy with no purposes', () => {
      expect(rejection('oem: acme\npurposes: []\n').message).toContain('acme.yaml:2 purposes: must NOT have fewer than 1 items');
    });
  });
});

describe('pseudonyms', () => {
  const key = Buffer.alloc(32, 7);
  const day = 86_400_000;

  it('are stable for the same VIN, OEM and epoch', () => {
    const p = createPseudonymizer(key, 'acme', 30);
    expect(p(VIN, 0)).toBe(p(VIN, 29 * day));
  });

  it('differ across epochs, across OEMs and across vehicles', () => {
    const acme = createPseudonymizer(key, 'acme', 30);
    const other = createPseudonymizer(key, 'other', 30);
    const seen = new Set([acme(VIN, 0), acme(VIN, 30 * day), other(VIN, 0), acme('LSHKZ000000000002', 0)]);
    expect(seen.size).toBe(4);
  });

  it('differ under another master key', () => {
    expect(createPseudonymizer(Buffer.alloc(32, 8), 'acme', 30)(VIN, 0)).not.toBe(createPseudonymizer(key, 'acme', 30)(VIN, 0));
  });
});
