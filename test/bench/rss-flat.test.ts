/**
 * bench/scenarios.ts `rssFlat`: the overload scenario calls memory bounded only when RSS levelled
 * off over the drain, never on a peak alone (the 2026-12-04 run rose at every sample to 1.8 GB).
 */
import { describe, expect, it } from 'vitest';
import { rssFlat } from '../../bench/scenarios.js';

/** RSS samples every 500 ms for `seconds`, KB from `kb(t)`. */
const series = (seconds: number, kb: (t: number) => number): [number, number][] =>
  Array.from({ length: seconds * 2 + 1 }, (_, i) => [i * 500, Math.round(kb(i * 500))]);

describe('bench › overload › RSS flat over the drain', () => {
  it('a climb to the last sample is not bounded', () => {
    const climb = series(40, (t) => 180_000 + t * 40); // +400 MB per 10 s
    expect(rssFlat(climb, 10_000)).toEqual({ lastS: 10, growthKb: 400_000, bounded: false });
  });

  it('a plateau after a climb is bounded, whatever the peak', () => {
    const plateau = series(40, (t) => (t < 25_000 ? 180_000 + t * 40 : 1_180_000 + (t % 1_000 === 0 ? 2_000 : 0)));
    expect(rssFlat(plateau, 10_000)).toMatchObject({ lastS: 10, bounded: true });
  });
});
