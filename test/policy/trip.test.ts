/**
 * Trip-endpoint suppression over a simulated trip: home → work across Almaty, one point a
 * second. No point within the radius of either end may leave, in any projection, ever.
 */
import { describe, expect, it } from 'vitest';
import { distanceMeters, type Point } from '../../src/policy/geo.js';
import type { Projection } from '../../src/record.js';
import { engineFor, projectEach, rec, T0, LAT, LON } from './helpers.js';

const HOME: Point = { lat: 43.2389, lon: 76.8897 };
const WORK: Point = { lat: 43.2565, lon: 76.9286 }; // ~3.6 km north-east
const RADIUS = 500;

const POLICY = `oem: acme
purposes:
  - id: p1
    description: raw positions, trip ends suppressed
    tripEndpoints: { radiusMeters: ${RADIUS}, gap: PT10M }
    fields:
      Vehicle.CurrentLocation.Latitude: { transform: pass, reason: road-safety research needs exact positions }
      Vehicle.CurrentLocation.Longitude: { transform: pass, reason: road-safety research needs exact positions }
      Vehicle.Speed: pass
`;

/** One point a second along a slightly wavy line, ignition on, then off at the end. */
function trip(from: Point, to: Point, startAt: number) {
  const steps = Math.ceil(distanceMeters(from, to) / 11); // ~40 km/h
  return Array.from({ length: steps + 1 }, (_, i) => {
    const f = i / steps;
    const wobble = Math.sin(f * Math.PI * 6) * 0.0008;
    return rec(
      {
        [LAT]: from.lat + (to.lat - from.lat) * f + wobble,
        [LON]: from.lon + (to.lon - from.lon) * f,
        'Vehicle.Speed': i === steps ? 0 : 40,
        'Vehicle.LowVoltageSystemState': i === steps ? 'OFF' : 'ON',
      },
      { observedAt: startAt + i * 1000 },
    );
  });
}

const positions = (ps: Projection[]) =>
  ps.filter((p) => LAT in p.signals).map((p) => ({ lat: p.signals[LAT] as number, lon: p.signals[LON] as number }));

describe('trip-endpoint suppression', () => {
  it('home → work: no egressed point lies within the radius of either end, and the middle of the trip is sent', async () => {
    const engine = await engineFor(POLICY);
    const records = trip(HOME, WORK, T0);
    const out = (await projectEach(engine, records)).flat();
    const sent = positions(out);
    for (const p of sent) {
      expect(distanceMeters(p, HOME)).toBeGreaterThan(RADIUS);
      expect(distanceMeters(p, WORK)).toBeGreaterThan(RADIUS);
    }
    const middle = records.filter((r) => {
      const p = { lat: r.signals[LAT] as number, lon: r.signals[LON] as number };
      return distanceMeters(p, HOME) > RADIUS + 50 && distanceMeters(p, WORK) > RADIUS + 50;
    });
    expect(sent.length).toBeGreaterThanOrEqual(middle.length);
    // Each record leaves at most once, and nothing is still held once the car is parked.
    expect(new Set(out.map((p) => p.recordId)).size).toBe(out.length);
    expect(engine.held()).toBe(0);
  });

  it('says why a position was not sent, and still sends the rest of the record', async () => {
    const engine = await engineFor(POLICY);
    const [first] = await engine.project(trip(HOME, WORK, T0)[0]!);
    expect(first!.signals).toEqual({ 'Vehicle.Speed': 40 });
    expect(first!.decision!.fields[LAT]).toEqual({ outcome: 'suppressed', reason: 'suppressed: trip start radius' });
  });

  it('releases a held point with the later record that moved the car away, under its own record id', async () => {
    const engine = await engineFor(POLICY);
    const records = trip(HOME, WORK, T0);
    let released: { by: string; p: Projection } | undefined;
    for (const r of records) {
      for (const p of await engine.project(r))
        if (p.recordId !== r.id && LAT in p.signals) {
          released = { by: r.id, p };
          break;
        }
      if (released) break;
    }
    expect(released).toBeDefined();
    expect(released!.p.decision!.notes).toContain('held back until the car left the trip radius, then released');
  });

  it('the next day, work → home: the known home is never sent either', async () => {
    const engine = await engineFor(POLICY);
    const out = (await projectEach(engine, [...trip(HOME, WORK, T0), ...trip(WORK, HOME, T0 + 9 * 3_600_000)])).flat();
    for (const p of positions(out)) {
      expect(distanceMeters(p, HOME)).toBeGreaterThan(RADIUS);
      expect(distanceMeters(p, WORK)).toBeGreaterThan(RADIUS);
    }
  });

  it('a trip that ends without an ignition-off message (silence) sends its tail without positions', async () => {
    const engine = await engineFor(POLICY);
    const records = trip(HOME, WORK, T0).slice(0, -1); // never says OFF
    const out = (await projectEach(engine, records)).flat();
    out.push(
      ...(await engine.project(
        rec({ [LAT]: WORK.lat, [LON]: WORK.lon, 'Vehicle.Speed': 0 }, { observedAt: T0 + 86_400_000 }),
      )),
    );
    for (const p of positions(out)) expect(distanceMeters(p, WORK)).toBeGreaterThan(RADIUS);
    const tail = out.filter((p) => p.decision?.notes?.some((n) => n.includes('near the end of a trip')));
    expect(tail.length).toBeGreaterThan(0);
    for (const t of tail) expect(t.decision!.fields[LAT]!.reason).toBe('suppressed: trip end radius');
  });

  it('after a restart (new engine), what was held is dropped, never sent', async () => {
    const records = trip(HOME, WORK, T0);
    const first = await engineFor(POLICY);
    const half = Math.floor(records.length / 2);
    const before = (await projectEach(first, records.slice(0, half))).flat();
    expect(first.held()).toBeGreaterThan(0);
    const heldIds = new Set(
      records
        .slice(0, half)
        .map((r) => r.id)
        .filter((id) => !before.some((p) => p.recordId === id && LAT in p.signals)),
    );
    const second = await engineFor(POLICY); // state is in memory only
    const after = (await projectEach(second, records.slice(half))).flat();
    for (const p of after) expect(heldIds.has(p.recordId)).toBe(false);
    // The restart point counts as a trip start: nothing near it leaves.
    const restartAt = { lat: records[half]!.signals[LAT] as number, lon: records[half]!.signals[LON] as number };
    for (const p of positions(after)) expect(distanceMeters(p, restartAt)).toBeGreaterThan(RADIUS);
  });
});
