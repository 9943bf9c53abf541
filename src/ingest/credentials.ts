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

/** A VIN per ISO 3779: 17 characters, digits and capitals without I, O, Q. */
export const VIN_RE = /^[A-HJ-NPR-Z0-9]{17}$/;
