/**
 * The re-identification harness as a test: a curious OEM with what it was
 * sent — pseudonyms, hour buckets, H3 cells — tries to link each trajectory to a known
 * home/work pair. The naive policy must be broken by it (else the attacker proves nothing);
 * the shipped example must hold it to at most 1/k, and must not send the car's own home cell,
 * a VIN, or a time finer than its bucket. Seeded: the same city and figures on every run.
 */
import { describe, expect, it } from 'vitest';
import { latLngToCell, getResolution } from 'h3-js';
import { EXAMPLE_K, measure } from '../../bench/reid.js';

const VIN_SHAPE = /[A-HJ-NPR-Z0-9]{17}/;

describe('re-identification harness › a curious OEM with 200 cars over 2 days', () => {
  it('links the naive stream, not the shipped example beyond 1/k', { timeout: 120_000 }, async () => {
    const { city, rows } = await measure(200, 2);
    const [example, naive] = rows;
    expect(naive!.linked).toBeGreaterThan(0.8);
    expect(example!.linked).toBeLessThanOrEqual(1 / EXAMPLE_K);

    const homeOf = new Map(city.people.map((p) => [p.vin, p.home]));
    for (const d of example!.deliveries) {
      const home = homeOf.get(d.truthVin)!;
      expect(latLngToCell(home.lat, home.lon, getResolution(d.cell))).not.toBe(d.cell);
      expect(d.pseudonym).not.toMatch(VIN_SHAPE);
      expect(d.at % 3_600_000).toBe(0);
    }
  });
});
