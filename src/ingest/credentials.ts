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
 * SHA-256, one constant-time compare) whether the VIN is registered or not. The look-up before
 * it does too: the store reads and maps a decoy row of a vehicle's shape for a VIN it does not
 * know (VehicleStore.getVehicleForAuth, src/store/vehicles/rows.ts), so answer time does not
 * tell which VINs are registered (bench/auth-timing.ts). `verify` is injectable for the test
 * that checks the path.
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
 * (default 5) after the attempt began: it slows guessing. It is not what makes a registered and
 * an unknown VIN take the same time — equal work (above) is. Node starts the timer on libuv's
 * loop clock in whole milliseconds (setTimeout reads it through uv_update_time/uv_now;
 * uv_timer_start: due = loop time + ms), and libuv then sleeps in epoll for the whole
 * milliseconds left by that clock, counted from the moment the loop goes idle (uv__next_timeout,
 * uv__io_poll). So the answer leaves a fixed time after the loop last went idle, and CPU work
 * done before that — the look-up, the check — moves it one for one within a millisecond; only
 * whole milliseconds of waiting (a slow PostgreSQL answer) are absorbed. The timer MUST be
 * started before the look-up, so that the look-up's waiting falls inside the floor instead of
 * being added to it.
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
