/**
 * Sensitive zones judged on what is released: a point outside a zone must
 * not be sent as a cell that covers part of the zone, nor as a grid centre inside it. The raw
 * point check alone let both through, as trip endpoints did before the D2 fix.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { latLngToCell } from 'h3-js';
import { engineFor, LAT, LON, rec, T0 } from './helpers.js';

const H3 = 'Vehicle.CurrentLocation.H3Cell';
const GRID = 'Vehicle.CurrentLocation.GridCell';
const M_PER_DEG = 111_320;

interface Box {
  readonly s: number;
  readonly w: number;
  readonly n: number;
  readonly e: number;
}

/** A square zone `side` metres wide around a centre, as the policy's GeoJSON polygon. */
function box(lat: number, lon: number, side: number): Box {
  const dLat = side / 2 / M_PER_DEG;
  const dLon = side / 2 / (M_PER_DEG * Math.cos((lat * Math.PI) / 180));
  return { s: lat - dLat, n: lat + dLat, w: lon - dLon, e: lon + dLon };
}

function zonePolicy(z: Box, location: string): string {
  const ring = [
    [z.w, z.s],
    [z.e, z.s],
    [z.e, z.n],
    [z.w, z.n],
    [z.w, z.s],
  ];
  return `oem: acme
sensitiveZones:
  - name: clinic
    geometry: { type: Polygon, coordinates: [${JSON.stringify(ring)}] }
purposes:
  - id: p1
    description: test
    fields:
      Vehicle.CurrentLocation: ${location}
      Vehicle.Speed: pass
`;
}

const at = (lat: number, lon: number) => rec({ [LAT]: lat, [LON]: lon, 'Vehicle.Speed': 30 }, { observedAt: T0 });

/** Points of the zone every ~20 m, edges and inside: the oracle for "the cell covers part of it". */
function samples(z: Box): { lat: number; lon: number }[] {
  const out: { lat: number; lon: number }[] = [];
  const steps = 60;
  for (let i = 0; i <= steps; i++)
    for (let j = 0; j <= steps; j++)
      out.push({ lat: z.s + ((z.n - z.s) * i) / steps, lon: z.w + ((z.e - z.w) * j) / steps });
  return out;
}

const CLINIC = box(43.245, 76.905, 800);
const H3_RES8 = '{ transform: generalize, method: h3, resolution: 8 }';

describe('sensitive zones on the released geometry', () => {
  it('a point 40 m outside the zone is not sent as an H3 cell that covers part of it', async () => {
    const outside = { lat: CLINIC.n + 40 / M_PER_DEG, lon: 76.905 };
    const cell = latLngToCell(outside.lat, outside.lon, 8);
    // The premise: the point's own cell reaches into the zone (a zone point maps to it).
    expect(samples(CLINIC).some((p) => latLngToCell(p.lat, p.lon, 8) === cell)).toBe(true);

    const engine = await engineFor(zonePolicy(CLINIC, H3_RES8));
    const [p] = await engine.project(at(outside.lat, outside.lon));
    expect(p!.signals).toEqual({ 'Vehicle.Speed': 30 });
    expect(p!.decision!.fields[LAT]!.reason).toBe('suppressed: the released position falls in sensitive zone "clinic"');
    // Far from the zone the cell still goes out.
    const [far] = await engine.project(at(CLINIC.n + 3000 / M_PER_DEG, 76.905));
    expect(far!.signals[H3]).toMatch(/^88/);
  });

  it('a point outside the zone whose grid centre lies inside it is not sent', async () => {
    const grid = '{ transform: generalize, method: grid, cellMeters: 2000, emit: centre }';
    // Where the 2 km grid puts a point 700 m east of (43.245, 76.905): its cell centre.
    const q = { lat: 43.245, lon: 76.905 + 700 / (M_PER_DEG * Math.cos((43.245 * Math.PI) / 180)) };
    const plain = await engineFor(zonePolicy(box(0, 0, 100), grid));
    const [open] = await plain.project(at(q.lat, q.lon));
    const centre = { lat: open!.signals[LAT] as number, lon: open!.signals[LON] as number };
    // A 300 m zone around that centre: the raw point is outside it, the centre inside.
    const zone = box(centre.lat, centre.lon, 300);
    const inZone = (p: { lat: number; lon: number }) =>
      p.lat > zone.s && p.lat < zone.n && p.lon > zone.w && p.lon < zone.e;
    expect([inZone(q), inZone(centre)]).toEqual([false, true]);

    const engine = await engineFor(zonePolicy(zone, grid));
    const [p] = await engine.project(at(q.lat, q.lon));
    expect(p!.signals).toEqual({ 'Vehicle.Speed': 30 });
    expect(p!.decision!.fields[LON]!.reason).toBe('suppressed: the released position falls in sensitive zone "clinic"');
  });

  const zoneAndPoint = fc.record({
    lat: fc.double({ min: 43.15, max: 43.35, noNaN: true }),
    lon: fc.double({ min: 76.75, max: 77.05, noNaN: true }),
    side: fc.integer({ min: 100, max: 1500 }),
    dNorth: fc.integer({ min: -3000, max: 3000 }),
    dEast: fc.integer({ min: -3000, max: 3000 }),
  });
  const pointOf = (v: { lat: number; lon: number; dNorth: number; dEast: number }) => ({
    lat: v.lat + v.dNorth / M_PER_DEG,
    lon: v.lon + v.dEast / (M_PER_DEG * Math.cos((v.lat * Math.PI) / 180)),
  });

  it('no released H3 cell holds a point of the zone (property)', async () => {
    await fc.assert(
      fc.asyncProperty(zoneAndPoint, async (v) => {
        const zone = box(v.lat, v.lon, v.side);
        const engine = await engineFor(zonePolicy(zone, H3_RES8));
        const pt = pointOf(v);
        const [p] = await engine.project(at(pt.lat, pt.lon));
        const cell = p!.signals[H3];
        if (cell !== undefined) expect(samples(zone).map((s) => latLngToCell(s.lat, s.lon, 8))).not.toContain(cell);
      }),
      { numRuns: 60 },
    );
  });

  it('no released grid cell holds a point of the zone (property)', async () => {
    const grid = '{ transform: generalize, method: grid, cellMeters: 1000, emit: cell }';
    await fc.assert(
      fc.asyncProperty(zoneAndPoint, async (v) => {
        const zone = box(v.lat, v.lon, v.side);
        const engine = await engineFor(zonePolicy(zone, grid));
        const pt = pointOf(v);
        const [p] = await engine.project(at(pt.lat, pt.lon));
        const cell = p!.signals[GRID];
        if (cell === undefined) return;
        // The same engine without the zone tells which cell each zone point falls in.
        const open = await engineFor(zonePolicy(box(0, 0, 100), grid));
        const zoneCells: unknown[] = [];
        for (const s of samples(zone).filter((_, i) => i % 7 === 0)) {
          const [q] = await open.project(at(s.lat, s.lon));
          zoneCells.push(q!.signals[GRID]);
        }
        expect(zoneCells).not.toContain(cell);
      }),
      { numRuns: 30 },
    );
  });
});
