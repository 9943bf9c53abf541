/**
 * The shape a projection carries (src/policy/shape.ts): made where the policy decided, it MUST be
 * the shape of the projection's own field lists and decision as JSON texts, the very bytes and
 * digest the outbox stored before (src/store/outbox/shapes.ts), and it is shared, not rebuilt.
 */
import { describe, expect, it } from 'vitest';
import { shapeOfTexts } from '../../src/store/outbox/shapes.js';
import type { Point } from '../../src/policy/geo.js';
import type { Projection } from '../../src/record.js';
import { engineFor, projectEach, rec, T0, LAT, LON } from './helpers.js';

const HOME: Point = { lat: 43.2389, lon: 76.8897 };

const POLICY = `oem: acme
purposes:
  - id: trips
    description: raw positions, trip ends suppressed
    tripEndpoints: { radiusMeters: 500, gap: PT10M }
    fields:
      Vehicle.CurrentLocation.Latitude: { transform: pass, reason: road-safety research needs exact positions }
      Vehicle.CurrentLocation.Longitude: { transform: pass, reason: road-safety research needs exact positions }
      Vehicle.Speed: pass
  - id: speed
    description: speed and charge
    fields:
      Vehicle.Speed: pass
      Vehicle.Powertrain.TractionBattery.StateOfCharge.Current: { transform: round, step: 10 }
`;

/** Trips away from home and back, with records of several layouts among them. */
function records() {
  const out = [];
  for (let i = 0; i < 240; i++) {
    const f = Math.min(i, 240 - i) / 120; // out and back
    const signals: Record<string, string | number> = {
      [LAT]: HOME.lat + 0.02 * f,
      [LON]: HOME.lon + 0.02 * f,
      'Vehicle.Speed': i % 60 === 59 ? 0 : 40,
      'Vehicle.LowVoltageSystemState': i === 239 ? 'OFF' : 'ON',
    };
    if (i % 3 === 0) signals['Vehicle.Powertrain.TractionBattery.StateOfCharge.Current'] = 50 + (i % 7);
    if (i % 5 === 0) signals['Vehicle.TraveledDistance'] = 1000 + i;
    out.push(
      rec(signals, {
        observedAt: T0 + i * 1000,
        ...(i % 7 === 0 ? { unknownKeys: [`k${i % 3}`] } : {}),
        ...(i % 11 === 0 ? { account: { 'Account.Owner.Name': 'A. Owner' } } : {}),
      }),
    );
  }
  return out;
}

const textsOf = (p: Projection) =>
  shapeOfTexts(
    JSON.stringify(p.fieldsSent),
    JSON.stringify(p.fieldsDropped),
    p.decision ? JSON.stringify(p.decision) : null,
  );

describe('policy › the shape a projection carries', () => {
  it('is the shape of its own field lists and decision, for every layout, suppression and release', async () => {
    const engine = await engineFor(POLICY);
    const out = (await projectEach(engine, records())).flat();
    expect(out.length).toBeGreaterThan(200);
    // Held back and released (a note), suppressed near the trip's ends: decisions that changed after the first.
    expect(out.some((p) => (p.decision?.notes ?? []).length > 0)).toBe(true);
    expect(out.some((p) => Object.values(p.decision?.fields ?? {}).some((d) => d.outcome === 'suppressed'))).toBe(true);
    for (const p of out) expect(p.shape).toEqual(textsOf(p));
  });

  it('is one object per distinct shape, not one per projection', async () => {
    const engine = await engineFor(POLICY);
    const out = (await projectEach(engine, records())).flat();
    const objects = new Set(out.map((p) => p.shape));
    expect(new Set(out.map((p) => p.shape!.digest)).size).toBe(objects.size);
    expect(objects.size).toBeLessThan(out.length / 4);
  });
});
