/**
 * Keyed pseudonyms. The master key never leaves the country (it lives in the local store);
 * each OEM and each epoch gets its own derived key, so the same VIN gives the same pseudonym
 * to one OEM within an epoch, and pseudonyms cannot be linked across OEMs or epochs without
 * the master key.
 */
import { createHmac } from 'node:crypto';

/** The store secret holding the master key (log vehicle references derive from it too: src/vehicle-ref.ts). */
export const PSEUDONYM_MASTER_KEY = 'pseudonym-master-key';

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

export interface PseudonymResolver {
  /**
   * The VIN that `pseudonym` names among `oem`'s vehicles, in the current epoch or the one
   * before (a pseudonym the OEM received just before an epoch boundary still names its car);
   * undefined for any other pseudonym, including another OEM's.
   */
  resolve(oem: string, pseudonym: string, atMs: number): Promise<string | undefined>;
}

/**
 * Reverse look-up for downlink commands: an OEM names a car only by its pseudonym. Per OEM and
 * epoch, a table pseudonym → VIN over that OEM's vehicles, rebuilt when the epoch turns, or on a
 * miss (a vehicle registered since) at most once per `rebuildMs`: unknown pseudonyms cannot make
 * the gateway recompute every HMAC per request.
 */
export function createPseudonymResolver(deps: {
  readonly vinsOf: (oem: string) => Promise<readonly string[]>;
  readonly pseudonymFor: (oem: string, vin: string, atMs: number) => string | undefined;
  readonly epochDays: number;
  readonly rebuildMs?: number;
}): PseudonymResolver {
  const epochMs = deps.epochDays * DAY_MS;
  const rebuildMs = deps.rebuildMs ?? 1_000;
  const tables = new Map<string, { epoch: number; builtAt: number; byPseudonym: Map<string, string> }>();
  const build = async (oem: string, epoch: number, atMs: number) => {
    const byPseudonym = new Map<string, string>();
    // Epoch starts, not `atMs - epochMs`: the previous epoch is the one before the current one.
    const times = [epoch * epochMs, (epoch - 1) * epochMs];
    for (const vin of await deps.vinsOf(oem)) {
      for (const t of times) {
        const p = deps.pseudonymFor(oem, vin, t);
        if (p !== undefined && !byPseudonym.has(p)) byPseudonym.set(p, vin);
      }
    }
    const table = { epoch, builtAt: atMs, byPseudonym };
    tables.set(oem, table);
    return table;
  };
  return {
    async resolve(oem, pseudonym, atMs) {
      const epoch = Math.floor(atMs / epochMs);
      let table = tables.get(oem);
      if (!table || table.epoch !== epoch) table = await build(oem, epoch, atMs);
      const vin = table.byPseudonym.get(pseudonym);
      if (vin !== undefined || atMs - table.builtAt < rebuildMs) return vin;
      return (await build(oem, epoch, atMs)).byPseudonym.get(pseudonym);
    },
  };
}
