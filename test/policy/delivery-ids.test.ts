/**
 * Ids that tell the OEM nothing (black-box review D3, D6): the delivery id has no time inside,
 * differs per OEM × purpose, and is what the body carries; the pseudonym crosses only for a
 * purpose that names the VIN; a purpose that buckets time sends nothing finer.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { uuidv7 } from '../../src/ids.js';
import { createDeliveryIds, DELIVERY_ID_RE } from '../../src/policy/delivery-id.js';
import { projectionBody } from '../../src/store/outbox/rows.js';
import { carriesTimeNear } from '../helpers/time-leak.js';
import { engineFor, rec, T0, VIN } from './helpers.js';

const TWO_PURPOSES = `oem: acme
purposes:
  - id: warranty
    description: contract purpose, names the VIN
    legalBasis: contract
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.Speed: pass
  - id: research
    description: consent purpose, does not name the VIN
    legalBasis: consent
    timeBucket: PT1H
    fields:
      Vehicle.Speed: pass
      Vehicle.StartTime: pass
`;

/** Bits two equal-length base64url strings share, position by position (random: about half). */
function sharedBits(a: string, b: string): number {
  const x = Buffer.from(a.slice(2), 'base64url');
  const y = Buffer.from(b.slice(2), 'base64url');
  let same = 0;
  for (let i = 0; i < x.length; i++) for (let k = 0; k < 8; k++) same += ((x[i]! ^ y[i]!) >> k) & 1 ? 0 : 1;
  return same;
}

describe('delivery ids', () => {
  it('are opaque: no record id and nothing that decodes to the receipt time (D3)', async () => {
    const engine = await engineFor(TWO_PURPOSES, { consent: grantAll() });
    const at = Date.now();
    const r = rec({ 'Vehicle.Speed': 50 }, { id: uuidv7(at), receivedAt: at, observedAt: at });
    const out = await engine.project(r);
    expect(out.map((p) => p.purpose).sort()).toEqual(['research', 'warranty']);
    for (const p of out) {
      const body = projectionBody(p);
      expect(p.deliveryId).toMatch(DELIVERY_ID_RE);
      expect(body).not.toContain(r.id);
      expect(body).not.toContain(r.id.replaceAll('-', '').slice(0, 12));
      const { observedAt: _bucketed, ...rest } = JSON.parse(body) as Record<string, unknown>;
      expect(carriesTimeNear(JSON.stringify(rest), at)).toEqual([]);
      expect(JSON.parse(body).deliveryId).toBe(p.deliveryId);
    }
  });

  it('differ between the purposes of one record, so the OEM cannot join them (D3)', async () => {
    const engine = await engineFor(TWO_PURPOSES, { consent: grantAll() });
    const out = await engine.project(rec({ 'Vehicle.Speed': 50 }, { id: uuidv7(T0) }));
    const [a, b] = out.map((p) => p.deliveryId);
    expect(a).not.toBe(b);
    expect(out[0]!.recordId).toBe(out[1]!.recordId);
  });

  it('are keyed: the same record and purpose always get the same id, another OEM or key another one', () => {
    const key = Buffer.alloc(32, 1);
    const id = uuidv7(T0);
    expect(createDeliveryIds(key)('acme', 'p')(id)).toBe(createDeliveryIds(key)('acme', 'p')(id));
    expect(createDeliveryIds(key)('acme', 'p')(id)).not.toBe(createDeliveryIds(key)('other', 'p')(id));
    expect(createDeliveryIds(key)('acme', 'p')(id)).not.toBe(createDeliveryIds(Buffer.alloc(32, 2))('acme', 'p')(id));
    // Field boundaries cannot be shifted to collide two pairs.
    expect(createDeliveryIds(key)('a/b', 'c')(id)).not.toBe(createDeliveryIds(key)('a', 'b/c')(id));
  });

  it('of records made 1 ms apart are unrelated (property)', () => {
    const ids = createDeliveryIds(Buffer.alloc(32, 9));
    fc.assert(
      fc.property(fc.integer({ min: 1_500_000_000_000, max: 2_500_000_000_000 }), fc.string(), (ms, purpose) => {
        const of = ids('acme', purpose);
        const a = of(uuidv7(ms));
        const b = of(uuidv7(ms + 1));
        expect(a).not.toBe(b);
        // No common prefix beyond chance and about half the bits alike: nothing ordered inside.
        let prefix = 0;
        while (a[2 + prefix] === b[2 + prefix]) prefix++;
        expect(prefix).toBeLessThan(5);
        expect(sharedBits(a, b)).toBeGreaterThan(30);
        expect(sharedBits(a, b)).toBeLessThan(98);
        // A time the id carries shows in both ids, made 1 ms apart. One id alone decodes to a time
        // within the hour by chance (a 32-bit read of random bytes: ~1.7e-6 each, ~100 reads a pair,
        // 300 pairs: ~5 % of runs, seen in CI); in both at once, ~3e-8 a pair.
        const inA = carriesTimeNear(a, ms);
        const inB = carriesTimeNear(b, ms + 1);
        expect(inA.length > 0 && inB.length > 0 ? [...inA, ...inB] : []).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('what identifies the vehicle', () => {
  it('sends the pseudonym only for a purpose that names the VIN (D6)', async () => {
    const engine = await engineFor(TWO_PURPOSES, { consent: grantAll() });
    const out = await engine.project(rec({ 'Vehicle.Speed': 50, 'Vehicle.VehicleIdentification.VIN': VIN }));
    const by = Object.fromEntries(out.map((p) => [p.purpose, p]));
    const pseudonym = engine.pseudonymFor('acme', VIN, T0)!;
    const research = projectionBody(by.research!);
    expect(JSON.parse(research)).not.toHaveProperty('vehicle');
    expect(research).not.toContain(pseudonym);
    expect(by.research!.fieldsSent).not.toContain('Vehicle.VehicleIdentification.VIN');
    const warranty = JSON.parse(projectionBody(by.warranty!)) as { vehicle: string; signals: Record<string, string> };
    expect(warranty.vehicle).toBe(pseudonym);
    expect(warranty.signals['Vehicle.VehicleIdentification.VIN']).toBe(pseudonym);
    expect(by.warranty!.fieldsSent).toContain('Vehicle.VehicleIdentification.VIN');
  });
});

describe('a purpose that buckets time', () => {
  it('floors time-valued signals to the bucket, like observedAt', async () => {
    const engine = await engineFor(TWO_PURPOSES, { consent: grantAll() });
    const at = Date.UTC(2026, 11, 3, 11, 42, 50, 31);
    const out = await engine.project(
      rec(
        { 'Vehicle.Speed': 50, 'Vehicle.StartTime': new Date(at - 600_000).toISOString() },
        { id: uuidv7(at), receivedAt: at, observedAt: at },
      ),
    );
    const research = JSON.parse(projectionBody(out.find((p) => p.purpose === 'research')!)) as {
      observedAt: string;
      signals: Record<string, unknown>;
    };
    expect(research.observedAt).toBe('2026-12-03T11:00:00.000Z');
    expect(research.signals['Vehicle.StartTime']).toBe('2026-12-03T11:00:00.000Z');
    // Nothing in the body names a time finer than the hour.
    for (const m of JSON.stringify(research).matchAll(/\d{4}-\d\d-\d\dT[\d:.]+Z/g))
      expect(Date.parse(m[0]) % 3_600_000).toBe(0);
  });

  it('drops a time-valued signal that is not a time it can floor', async () => {
    const engine = await engineFor(TWO_PURPOSES, { consent: grantAll() });
    const out = await engine.project(rec({ 'Vehicle.Speed': 50, 'Vehicle.StartTime': 'soon' }));
    const research = out.find((p) => p.purpose === 'research')!;
    expect(research.signals).not.toHaveProperty('Vehicle.StartTime');
    expect(research.decision?.fields['Vehicle.StartTime']?.reason).toMatch(/timeBucket/);
  });
});

function grantAll() {
  return { grants: new Set<string>(), isConsentGranted: async () => true };
}
