/** Record-level rules: k-anonymity, consent, minimum interval, sensitive zones, noise. */
import { describe, expect, it } from 'vitest';
import { cellToChildren, cellToLatLng, latLngToCell } from 'h3-js';
import { consentStillGiven } from '../../src/policy/index.js';
import { distanceMeters } from '../../src/policy/geo.js';
import { engineFor, onePurpose, projectEach, rec, testConsent, T0, LAT, LON, VIN } from './helpers.js';

const H3 = 'Vehicle.CurrentLocation.H3Cell';
const at = (lat: number, lon: number, vin: string, extra: Record<string, number> = {}) =>
  rec({ [LAT]: lat, [LON]: lon, 'Vehicle.Speed': 30, ...extra }, { vin });
const vin = (i: number) => `LSHKZ00000000${String(i).padStart(4, '0')}`;

describe('k-anonymity on generalized cells', () => {
  const policy = (otherwise: string) =>
    onePurpose(
      '      Vehicle.CurrentLocation: { transform: generalize, method: h3, resolution: 8 }\n      Vehicle.Speed: pass\n',
      `    kAnonymity: { k: 3, window: PT15M, otherwise: ${otherwise} }\n`,
    );

  it('a lone vehicle in a cell is not released at that resolution', async () => {
    const engine = await engineFor(policy('drop'));
    const [p] = await engine.project(at(43.2389, 76.8897, vin(1)));
    expect(p!.signals).toEqual({ 'Vehicle.Speed': 30 });
    expect(p!.decision!.fields[LAT]).toEqual({
      outcome: 'suppressed',
      reason: 'suppressed: k-anonymity (fewer than 3 vehicles in the cell)',
    });
  });

  it('a cell is released once k distinct vehicles were seen in it in the window', async () => {
    const engine = await engineFor(policy('drop'));
    const out = (
      await projectEach(
        engine,
        [1, 2, 1, 3].map((i) => at(43.2389, 76.8897, vin(i))),
      )
    ).map((ps) => ps[0]!);
    expect(out.map((p) => H3 in p.signals)).toEqual([false, false, false, true]);
    expect(out[3]!.signals[H3]).toBe(latLngToCell(43.2389, 76.8897, 8));
    expect(out[3]!.decision!.fields[LAT]!.reason).toBe('generalized to H3 res 8');
  });

  it('with otherwise: coarsen, vehicles spread over neighbouring cells are released one resolution up', async () => {
    const engine = await engineFor(policy('coarsen'));
    const parent = latLngToCell(43.2389, 76.8897, 7);
    const children = cellToChildren(parent, 8)
      .slice(0, 3)
      .map((c) => cellToLatLng(c));
    const out = (
      await projectEach(
        engine,
        children.map(([lat, lon], i) => at(lat, lon, vin(i))),
      )
    ).map((ps) => ps[0]!);
    expect(out[2]!.signals[H3]).toBe(parent);
    expect(out[2]!.decision!.fields[LAT]!.reason).toBe('generalized to H3 res 7');
    expect(H3 in out[0]!.signals).toBe(false);
  });
});

describe('consent', () => {
  const policy = onePurpose('      Vehicle.Speed: pass\n', '    legalBasis: consent\n');

  it('a purpose that requires consent sends nothing without a grant, and says so', async () => {
    const engine = await engineFor(policy, { consent: testConsent() });
    expect(await engine.project(rec({ 'Vehicle.Speed': 1 }))).toEqual([]);
    expect((await engine.explain(rec({ 'Vehicle.Speed': 1 }))).withheld[0]!.reason).toBe('blocked: no consent');
  });

  it('sends once granted, and the egress re-check follows a revocation', async () => {
    const consent = testConsent();
    const engine = await engineFor(policy, { consent });
    consent.grants.add(`${VIN}/acme/p1`);
    expect(await engine.project(rec({ 'Vehicle.Speed': 1 }))).toHaveLength(1);
    const deps = { consent, policyOf: engine.policyOf };
    expect(await consentStillGiven(deps, { vin: VIN, oem: 'acme', purpose: 'p1' }, T0)).toBe(true);
    consent.grants.clear();
    expect(await consentStillGiven(deps, { vin: VIN, oem: 'acme', purpose: 'p1' }, T0)).toBe(false);
    // A purpose the policy no longer has needs a grant too (fail safe).
    expect(await consentStillGiven(deps, { vin: VIN, oem: 'acme', purpose: 'gone' }, T0)).toBe(false);
  });

  it('without a consent registry at all, nothing that needs consent leaves', async () => {
    expect(await (await engineFor(policy)).project(rec({ 'Vehicle.Speed': 1 }))).toEqual([]);
  });
});

describe('minimum interval per vehicle', () => {
  it('down-samples: at most one projection per vehicle per interval', async () => {
    const engine = await engineFor(onePurpose('      Vehicle.Speed: pass\n', '    minInterval: PT30S\n'));
    const sent = (
      await projectEach(
        engine,
        [0, 10, 29, 30, 45, 61].map((s) => rec({ 'Vehicle.Speed': s }, { observedAt: T0 + s * 1000 })),
      )
    ).map((ps) => ps.length);
    expect(sent).toEqual([1, 0, 0, 1, 0, 1]);
    expect(await engine.project(rec({ 'Vehicle.Speed': 1 }, { vin: vin(9), observedAt: T0 + 10_000 }))).toHaveLength(1);
  });
});

describe('sensitive zones', () => {
  it('no position inside a zone leaves; outside it does', async () => {
    const engine = await engineFor(`oem: acme
sensitiveZones:
  - name: clinic
    geometry: { type: Polygon, coordinates: [[[76.90, 43.24], [76.91, 43.24], [76.91, 43.25], [76.90, 43.25], [76.90, 43.24]]] }
purposes:
  - id: p1
    description: test
    fields:
      Vehicle.CurrentLocation: { transform: generalize, method: grid, cellMeters: 100, emit: centre }
      Vehicle.Speed: pass
`);
    const [inside] = await engine.project(at(43.245, 76.905, VIN));
    expect(inside!.signals).toEqual({ 'Vehicle.Speed': 30 });
    expect(inside!.decision!.fields[LON]!.reason).toBe('suppressed: sensitive zone "clinic"');
    const [outside] = await engine.project(at(43.26, 76.905, VIN));
    expect(
      distanceMeters(
        { lat: outside!.signals[LAT] as number, lon: outside!.signals[LON] as number },
        { lat: 43.26, lon: 76.905 },
      ),
    ).toBeLessThan(100);
  });
});

describe('noise (planar Laplace)', () => {
  it('moves points by 2/epsilon on average, in every direction', async () => {
    const engine = await engineFor(onePurpose('      Vehicle.CurrentLocation: { transform: noise, epsilon: 0.01 }\n'));
    const origin = { lat: 43.2389, lon: 76.8897 };
    const pts = (
      await projectEach(
        engine,
        Array.from({ length: 4000 }, () => at(origin.lat, origin.lon, VIN)),
      )
    ).map((ps) => ps[0]!.signals);
    const d = pts.map((s) => distanceMeters(origin, { lat: s[LAT] as number, lon: s[LON] as number }));
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    expect(mean).toBeGreaterThan(180); // E[r] = 2/ε = 200 m
    expect(mean).toBeLessThan(220);
    expect(pts.filter((s) => (s[LAT] as number) > origin.lat).length / pts.length).toBeCloseTo(0.5, 1);
  });
});
