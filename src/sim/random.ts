/**
 * A seeded random source (Mulberry32) for what must come out the same on every run: simulated
 * fleets, benchmarks (bench/reid.ts) and the policy engine's noise in tests. Not for secrets
 * (node:crypto is).
 */

/** Mulberry32: uniform in [0, 1), the same sequence for the same seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
