/**
 * Keyed pseudonyms. The master key never leaves the country (it lives in the local store);
 * each OEM and each epoch gets its own derived key, so the same VIN gives the same pseudonym
 * to one OEM within an epoch, and pseudonyms cannot be linked across OEMs or epochs without
 * the master key.
 */
import { createHmac } from 'node:crypto';

const DAY_MS = 86_400_000;
/** Pseudonyms kept in memory: an HMAC costs about a microsecond, a map lookup far less. */
const CACHE_SIZE = 50_000;

export type Pseudonymizer = (value: string, atMs: number) => string;

export function createPseudonymizer(masterKey: Buffer, oem: string, epochDays: number): Pseudonymizer {
  const epochMs = epochDays * DAY_MS;
  const keys = new Map<number, Buffer>();
  // Pseudonyms of the current epoch only; a new epoch starts an empty cache.
  let cacheEpoch = -1;
  let cache = new Map<string, string>();
  const keyFor = (epoch: number): Buffer => {
    let key = keys.get(epoch);
    if (!key) {
      key = createHmac('sha256', masterKey).update(`shekara/pseudonym/v1\n${oem}\n${epoch}`).digest();
      if (keys.size > 4) keys.clear(); // only the current epoch (and a neighbour at the boundary) is ever hot
      keys.set(epoch, key);
    }
    return key;
  };
  return (value, atMs) => {
    const epoch = Math.floor(atMs / epochMs);
    if (epoch !== cacheEpoch) {
      // Records near an epoch boundary may alternate; only the newest epoch is cached.
      if (epoch < cacheEpoch) return createHmac('sha256', keyFor(epoch)).update(value).digest('base64url').slice(0, 22);
      cacheEpoch = epoch;
      cache = new Map();
    }
    let p = cache.get(value);
    if (p === undefined) {
      // 128 bits of HMAC-SHA256, base64url: short enough for a message key, far from collisions.
      p = createHmac('sha256', keyFor(epoch)).update(value).digest('base64url').slice(0, 22);
      if (cache.size >= CACHE_SIZE) cache.clear();
      cache.set(value, p);
    }
    return p;
  };
}
