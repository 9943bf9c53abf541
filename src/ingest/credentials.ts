/**
 * Vehicle secrets. A secret is a random 256-bit token made by the gateway (or one of at least
 * 24 characters given by the operator), so a salted SHA-256 is enough to store it: stretching
 * (scrypt, argon2) protects low-entropy human passwords and would cost tens of milliseconds on
 * every one of thousands of reconnects. Only the hash and salt are stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const MIN_SECRET_LENGTH = 24;

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string, salt: Buffer = randomBytes(16)): { secretHash: Buffer; secretSalt: Buffer } {
  return { secretHash: createHash('sha256').update(salt).update(secret, 'utf8').digest(), secretSalt: salt };
}

export function verifySecret(secret: string | Buffer, stored: { secretHash: Buffer; secretSalt: Buffer }): boolean {
  const h = createHash('sha256').update(stored.secretSalt).update(secret).digest();
  return h.length === stored.secretHash.length && timingSafeEqual(h, stored.secretHash);
}

/**
 * A stored-secret stand-in for a VIN that is not registered (or revoked): its hash matches no
 * secret anyone knows (random, made at start), so checking against it always fails.
 */
const NO_VEHICLE = hashSecret(randomBytes(32).toString('base64url'));

/**
 * The secret check every vehicle authentication goes through: for an unknown VIN, or no secret
 * at all, it hashes and compares against NO_VEHICLE, so a refusal does the same work (one salted
 * SHA-256, one constant-time compare) whether the VIN is registered or not, and answer time does
 * not tell which VINs are registered. `verify` is injectable for the test that checks that.
 */
export function vehicleSecretMatches<V extends { secretHash: Buffer; secretSalt: Buffer }>(
  vehicle: V | undefined,
  secret: string | Buffer | undefined,
  verify: typeof verifySecret = verifySecret,
): vehicle is V {
  const ok = verify(secret ?? '', vehicle ?? NO_VEHICLE);
  return vehicle !== undefined && secret !== undefined && ok;
}

/**
 * A refused vehicle authentication is answered no sooner than `limits.authRefusalFloorMs`
 * (default 5) after the attempt began. Equal work (above) left a gap: a registered VIN's look-up
 * returns a row to read and map, an unknown one's does not, and over loopback that was still
 * 10–16 µs (bench/auth-timing.ts). The floor's timer MUST be started before the look-up: Node
 * schedules a timer from the event loop's clock as it was when this turn began, so a timer
 * started after the look-up and told "what is left of 5 ms" fires earlier by exactly the look-up
 * time — the difference leaked again (measured: 30–50 µs). Started first, its expiry does not
 * depend on the look-up. It does not hide everything: the loop sleeps in whole milliseconds
 * from the moment it last looked at its clock, after the look-up, so a sub-millisecond
 * difference still shows in the mean (~15–25 µs measured on an idle machine; equal work for an
 * unknown VIN is what would close it). 5 ms costs a refused car nothing and slows guessing.
 */
export interface RefusalFloor {
  /** Resolves when the floor is reached. */
  readonly reached: Promise<void>;
  /** The attempt was not refused: drop the timer. */
  cancel(): void;
}

export function refusalFloor(floorMs: number): RefusalFloor {
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => (timer = setTimeout(resolve, floorMs)));
  return { reached, cancel: () => clearTimeout(timer) };
}

/** A VIN per ISO 3779: 17 characters, digits and capitals without I, O, Q. */
export const VIN_RE = /^[A-HJ-NPR-Z0-9]{17}$/;
