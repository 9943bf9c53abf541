/**
 * Trip-endpoint suppression on what is released (black-box review D2): a point just outside
 * the radius must not generalize to a cell that contains the home, or to a centre next to it.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cellToBoundary, cellToLatLng, latLngToCell } from 'h3-js';
import { distanceMeters, type Point } from '../../src/policy/geo.js';
import { engineFor, LAT, LON, onePurpose, projectEach, rec, T0 } from './helpers.js';

const H3 = 'Vehicle.CurrentLocation.H3Cell';
const RADIUS = 500;

/** Leaves home along a bearing, one point per 50 m out to 3 km, ignition on. */
function leave(home: Point, bearingDeg: number) {
  const b = (bearingDeg * Math.PI) / 180;
  return Array.from({ length: 61 }, (_, i) => {
    const d = i * 50;
    return rec(
      {
        [LAT]: home.lat + (d * Math.cos(b)) / 111_320,
        [LON]: home.lon + (d * Math.sin(b)) / (111_320 * Math.cos((home.lat * Math.PI) / 180)),
        'Vehicle.Speed': 40,
        'Vehicle.LowVoltageSystemState': 'ON',
      },
      { observedAt: T0 + i * 5000 },
    );
  });
}

const home = fc.record({
  lat: fc.double({ min: 43.1, max: 43.4, noNaN: true }),
  lon: fc.double({ min: 76.7, max: 77.1, noNaN: true }),
});
const trip = `    tripEndpoints: { radiusMeters: ${RADIUS} }\n`;

describe('released location near a trip endpoint', () => {
  it("the review's D2 case: a point 504 m from home, in the home's res-8 cell, is not sent as that cell", async () => {
    // Home near one corner of a res-8 cell; the point 504 m away toward the opposite corner is
    // outside the 500 m radius but still in the same cell (the review: car 6, message 7).
    const cell = latLngToCell(43.29, 76.922, 8);
    const [c, corner, opposite] = [cellToLatLng(cell), cellToBoundary(cell)[0]!, cellToBoundary(cell)[3]!];
    const h = { lat: corner[0] + (c[0] - corner[0]) * 0.1, lon: corner[1] + (c[1] - corner[1]) * 0.1 };
    const far = { lat: opposite[0], lon: opposite[1] };
    const f = 504 / distanceMeters(h, far);
    const p504 = { lat: h.lat + (far.lat - h.lat) * f, lon: h.lon + (far.lon - h.lon) * f };
    expect(Math.round(distanceMeters(h, p504))).toBe(504);
    expect([latLngToCell(h.lat, h.lon, 8), latLngToCell(p504.lat, p504.lon, 8)]).toEqual([cell, cell]);

    const engine = await engineFor(
      onePurpose('      Vehicle.CurrentLocation: { transform: generalize, method: h3, resolution: 8 }\n', trip),
    );
    // Ignition on at home, 100 m steps out to 400 m, the 504 m point, then on to 3 km.
    const path = [0, 0.2, 0.4, 0.6, 0.8, 1, 2, 3, 4, 5, 6].map((k) => ({
      lat: h.lat + (p504.lat - h.lat) * k,
      lon: h.lon + (p504.lon - h.lon) * k,
    }));
    const recs = path.map((pt, i) =>
      rec(
        { [LAT]: pt.lat, [LON]: pt.lon, 'Vehicle.Speed': 40, 'Vehicle.LowVoltageSystemState': 'ON' },
        { observedAt: T0 + i * 5000 },
      ),
    );
    const out = (await projectEach(engine, recs)).flat();
    expect(out.some((p) => H3 in p.signals)).toBe(true); // the far points do go out
    for (const p of out) expect(p.signals[H3]).not.toBe(cell);
  });

  it('no released H3 cell contains the trip start', async () => {
    await fc.assert(
      fc.asyncProperty(home, fc.integer({ min: 0, max: 359 }), async (h, bearing) => {
        const engine = await engineFor(
          onePurpose('      Vehicle.CurrentLocation: { transform: generalize, method: h3, resolution: 8 }\n', trip),
        );
        const out = (await projectEach(engine, leave(h, bearing))).flat();
        for (const p of out) if (H3 in p.signals) expect(p.signals[H3]).not.toBe(latLngToCell(h.lat, h.lon, 8));
      }),
      { numRuns: 25 },
    );
  });

  it('no released grid centre lies within the radius of the trip start', async () => {
    await fc.assert(
      fc.asyncProperty(home, fc.integer({ min: 0, max: 359 }), async (h, bearing) => {
        const engine = await engineFor(
          onePurpose(
            '      Vehicle.CurrentLocation: { transform: generalize, method: grid, cellMeters: 2000, emit: centre }\n',
            trip,
          ),
        );
        const out = (await projectEach(engine, leave(h, bearing))).flat();
        for (const p of out)
          if (LAT in p.signals)
            expect(distanceMeters({ lat: p.signals[LAT] as number, lon: p.signals[LON] as number }, h)).toBeGreaterThan(
              RADIUS,
            );
      }),
      { numRuns: 25 },
    );
  });
});
