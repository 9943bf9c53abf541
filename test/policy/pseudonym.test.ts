import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createPseudonymizer } from '../../src/policy/pseudonym.js';

const key = Buffer.alloc(32, 7);
const DAY = 86_400_000;
const vin = fc.stringMatching(/^[A-HJ-NPR-Z0-9]{17}$/);
const epochStart = fc.integer({ min: 0, max: 10_000 }).map((e) => e * 30 * DAY);

describe('pseudonyms', () => {
  it('are the same for the same VIN, OEM and epoch', () => {
    fc.assert(
      fc.property(vin, epochStart, fc.integer({ min: 0, max: 30 * DAY - 1 }), (v, start, offset) => {
        const p = createPseudonymizer(key, 'acme', 30);
        expect(p(v, start)).toBe(p(v, start + offset));
        // …and a fresh pseudonymizer (after a restart) agrees: nothing depends on memory.
        expect(createPseudonymizer(key, 'acme', 30)(v, start + offset)).toBe(p(v, start));
      }),
    );
  });

  it('differ across epochs and across OEMs', () => {
    fc.assert(
      fc.property(vin, epochStart, fc.integer({ min: 1, max: 12 }), (v, start, later) => {
        const acme = createPseudonymizer(key, 'acme', 30);
        const other = createPseudonymizer(key, 'other', 30);
        expect(acme(v, start)).not.toBe(acme(v, start + later * 30 * DAY));
        expect(acme(v, start)).not.toBe(other(v, start));
      }),
    );
  });

  it("never equal another vehicle's", () => {
    fc.assert(
      fc.property(fc.uniqueArray(vin, { minLength: 2, maxLength: 200 }), epochStart, (vins, at) => {
        const p = createPseudonymizer(key, 'acme', 30);
        expect(new Set(vins.map((v) => p(v, at))).size).toBe(vins.length);
      }),
    );
  });

  it('differ under another master key, and do not contain the VIN', () => {
    fc.assert(
      fc.property(vin, (v) => {
        const a = createPseudonymizer(key, 'acme', 30)(v, 0);
        expect(createPseudonymizer(Buffer.alloc(32, 8), 'acme', 30)(v, 0)).not.toBe(a);
        expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(a.toUpperCase()).not.toContain(v);
      }),
    );
  });

  it('in an earlier epoch than the newest seen are still right (records arrive out of order)', () => {
    const p = createPseudonymizer(key, 'acme', 30);
    const fresh = createPseudonymizer(key, 'acme', 30);
    const late = p('LSHKZ000000000001', 31 * DAY);
    expect(p('LSHKZ000000000001', 0)).toBe(fresh('LSHKZ000000000001', 0));
    expect(p('LSHKZ000000000001', 31 * DAY)).toBe(late);
  });
});
