/**
 * Re-identification harness: a simulated city, the stream a location policy
 * releases to the OEM, and a curious OEM that links each pseudonymous trajectory to a home/work
 * pair it knows from elsewhere (an address list: Golle & Partridge 2009).
 *
 *   node --import tsx bench/reid.ts [vehicles] [days]     defaults 200 vehicles, 2 days
 *
 * The city: a 12 × 11 km box over Almaty; every vehicle has a home (anywhere) and a workplace
 * (one of 40 office sites, so colleagues share one), drives to work around 07:30, back around
 * 18:00, and on some evenings to one of 30 shops and home again; a point every 30 s while the
 * ignition is on. Everything is seeded: the same arguments give the same figure.
 *
 * The attacker sees only what is delivered: the pseudonym (the worst case: both policies name
 * the VIN), the bucketed time and the released cell. Per pseudonym it takes the first released
 * cell of each day as "near home" and the last one before noon as "near work", and guesses
 * uniformly among the known people whose home and work both lie within D of those cells; D is
 * the best of 0.3–3 km for the attacker (an upper bound). Linked = the mean chance the guess
 * is right. Records go through the gateway's policy engine in process; ingest and egress do
 * not change what a policy releases, and the wire path is tested elsewhere (test/e2e).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cellToLatLng } from 'h3-js';
import { createPolicyEngine } from '../src/policy/index.js';
import type { CanonicalRecord } from '../src/record.js';
import { distanceMeters, LAT, LON, type Point } from '../src/policy/geo.js';
import { seeded } from '../src/sim/random.js';

const VIN_PATH = 'Vehicle.VehicleIdentification.VIN';
const H3 = 'Vehicle.CurrentLocation.H3Cell';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 7); // a Monday, 00:00 UTC (the city's clock; time zones do not matter here)

/** The location purpose of docs/policy.md (charging-map), with the VIN named: the strongest attacker. */
export const EXAMPLE_PURPOSE = `    minInterval: PT5M
    timeBucket: PT1H
    tripEndpoints: { radiusMeters: 500 }
    kAnonymity: { k: 5, window: PT1H, otherwise: coarsen, maxCoarsen: 2 }
`;
export const EXAMPLE_K = 5;
/** A naive policy: the same H3 cells, no trip, time or k-anonymity rule. */
export const NAIVE_PURPOSE = '';

function policy(extra: string): string {
  return `oem: city-oem
purposes:
  - id: map
    description: Re-identification harness.
    legalBasis: contract
${extra}    fields:
      ${VIN_PATH}: pseudonymize
      Vehicle.CurrentLocation: { transform: generalize, method: h3, resolution: 8 }
`;
}

export interface Person {
  readonly vin: string;
  readonly home: Point;
  readonly work: Point;
}

export interface City {
  readonly people: readonly Person[];
  /** Every record of every car, in time order (the order the gateway sees them). */
  readonly records: readonly CanonicalRecord[];
}

const BOX = { s: 43.2, n: 43.3, w: 76.85, e: 77.0 };

export function simulateCity(vehicles = 200, days = 2, seed = 15): City {
  const rnd = seeded(seed);
  const spot = (): Point => ({ lat: BOX.s + (BOX.n - BOX.s) * rnd(), lon: BOX.w + (BOX.e - BOX.w) * rnd() });
  const offices = Array.from({ length: 40 }, spot);
  const shops = Array.from({ length: 30 }, spot);
  const people: Person[] = Array.from({ length: vehicles }, (_, i) => ({
    vin: `LSHKZ${String(i).padStart(12, '0')}`,
    home: spot(),
    work: offices[Math.floor(rnd() * offices.length)]!,
  }));
  const records: CanonicalRecord[] = [];
  let n = 0;
  const drive = (vin: string, from: Point, to: Point, start: number) => {
    const kmh = 30 + 20 * rnd();
    const steps = Math.max(2, Math.ceil(distanceMeters(from, to) / ((kmh / 3.6) * 30)));
    for (let s = 0; s <= steps; s++) {
      const f = s / steps;
      records.push({
        id: `r${++n}`,
        vin,
        oem: 'city-oem',
        channel: 'mqtt',
        receivedAt: start + s * 30_000,
        observedAt: start + s * 30_000,
        signals: {
          [VIN_PATH]: vin,
          [LAT]: from.lat + (to.lat - from.lat) * f,
          [LON]: from.lon + (to.lon - from.lon) * f,
          'Vehicle.Speed': s === steps ? 0 : Math.round(kmh),
          'Vehicle.LowVoltageSystemState': s === steps ? 'OFF' : 'ON',
        },
        account: {},
        unknownKeys: [],
      });
    }
  };
  for (let d = 0; d < days; d++)
    for (const p of people) {
      const day = T0 + d * DAY;
      drive(p.vin, p.home, p.work, day + 7.5 * 3_600_000 + rnd() * 3_600_000);
      drive(p.vin, p.work, p.home, day + 18 * 3_600_000 + rnd() * 3_600_000);
      if (rnd() < 0.5) {
        const shop = shops[Math.floor(rnd() * shops.length)]!;
        drive(p.vin, p.home, shop, day + 20 * 3_600_000 + rnd() * 1_800_000);
        drive(p.vin, shop, p.home, day + 21.5 * 3_600_000 + rnd() * 1_800_000);
      }
    }
  records.sort((a, b) => a.observedAt - b.observedAt);
  return { people, records };
}

/** What the OEM received: pseudonym, bucketed time, cell. */
export interface Delivery {
  readonly pseudonym: string;
  readonly at: number;
  readonly cell: string;
  /** The car it came from: the harness scores with it, the attacker never reads it. */
  readonly truthVin: string;
}

export async function release(city: City, purposeExtra: string): Promise<Delivery[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-reid-'));
  writeFileSync(path.join(dir, 'p.yaml'), policy(purposeExtra));
  const engine = await createPolicyEngine(
    { oems: [{ id: 'city-oem', policyFile: path.join(dir, 'p.yaml') }], epochDays: 30 },
    { masterKey: Buffer.alloc(32, 3), random: seeded(7) },
  );
  const out: Delivery[] = [];
  for (const r of city.records)
    for (const p of await engine.project(r)) {
      const cell = p.signals[H3];
      if (typeof cell === 'string')
        out.push({ pseudonym: String(p.signals[VIN_PATH]), at: p.observedAt, cell, truthVin: r.vin });
    }
  return out;
}

export interface Linkage {
  /** Mean chance that the attacker's guess names the right person, over every pseudonym seen. */
  readonly linked: number;
  /** Pseudonyms with at least one delivery. */
  readonly trajectories: number;
  /** The attacker's best match distance, metres. */
  readonly distance: number;
  /** Cells delivered. */
  readonly cells: number;
}

/** The curious OEM: links pseudonyms to people; `truthVin` is read only to score each guess. */
export function attack(deliveries: readonly Delivery[], people: readonly Person[]): Linkage {
  const truth = new Map(deliveries.map((d) => [d.pseudonym, d.truthVin]));
  const byPseudonym = new Map<string, Delivery[]>();
  for (const d of deliveries) byPseudonym.set(d.pseudonym, [...(byPseudonym.get(d.pseudonym) ?? []), d]);
  const guesses = [...byPseudonym.entries()].map(([pseudonym, ds]) => {
    // Per day: the first cell (left home) and the last before noon (arrived at work).
    const homes: Point[] = [];
    const works: Point[] = [];
    for (const day of new Set(ds.map((d) => Math.floor((d.at - T0) / DAY)))) {
      const today = ds.filter((d) => Math.floor((d.at - T0) / DAY) === day);
      const morning = today.filter((d) => (d.at - T0) % DAY < 12 * 3_600_000);
      const centre = (d: Delivery): Point => {
        const [lat, lon] = cellToLatLng(d.cell);
        return { lat, lon };
      };
      if (morning.length > 0) {
        homes.push(centre(morning[0]!));
        works.push(centre(morning[morning.length - 1]!));
      }
    }
    return { pseudonym, homes, works };
  });
  let best: Linkage = { linked: 0, trajectories: guesses.length, distance: 0, cells: deliveries.length };
  for (const D of [300, 500, 750, 1000, 1500, 2000, 3000]) {
    let sum = 0;
    for (const g of guesses) {
      if (g.homes.length === 0) continue;
      const near = (a: Point, pts: Point[]) => pts.some((p) => distanceMeters(a, p) <= D);
      const candidates = people.filter((p) => near(p.home, g.homes) && near(p.work, g.works));
      if (candidates.some((c) => c.vin === truth.get(g.pseudonym))) sum += 1 / candidates.length;
    }
    const linked = guesses.length === 0 ? 0 : sum / people.length;
    if (linked > best.linked) best = { ...best, linked, distance: D };
  }
  return best;
}

export async function measure(vehicles: number, days: number) {
  const city = simulateCity(vehicles, days);
  const rows = [];
  for (const [name, extra] of [
    ['shipped example (docs/policy.md charging-map)', EXAMPLE_PURPOSE],
    ['naive (H3 res 8 only)', NAIVE_PURPOSE],
  ] as const) {
    const deliveries = await release(city, extra);
    rows.push({ name, deliveries, ...attack(deliveries, city.people) });
  }
  return { city, rows };
}

async function main(): Promise<void> {
  const vehicles = Number(process.argv[2] ?? 200);
  const days = Number(process.argv[3] ?? 2);
  const { city, rows } = await measure(vehicles, days);
  console.log(`command: node --import tsx bench/reid.ts ${vehicles} ${days}`);
  console.log(`city: ${vehicles} vehicles, ${days} days, ${city.records.length.toLocaleString('en')} records`);
  for (const r of rows)
    console.log(
      `${r.name}: ${r.cells.toLocaleString('en')} cells delivered, ${r.trajectories} pseudonyms; linked ${(100 * r.linked).toFixed(1)} % (best D ${r.distance} m; aim for the example ≤ 1/k = ${(100 / EXAMPLE_K).toFixed(0)} %)`,
    );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
