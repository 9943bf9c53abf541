/**
 * Equal-time refusal: a wrong secret for a registered VIN and any secret for an unknown VIN
 * take the same path (one salted hash, one constant-time compare), so the answer time does not
 * tell an attacker which VINs are registered. The path is tested here; the time itself is
 * measured in bench/auth-timing.ts, never asserted.
 */
import { describe, expect, it } from 'vitest';
import { hashSecret, vehicleSecretMatches, verifySecret } from '../../src/ingest/credentials.js';

const recording = () => {
  const calls: { secret: string | Buffer; salt: Buffer }[] = [];
  const verify: typeof verifySecret = (secret, stored) => {
    calls.push({ secret, salt: stored.secretSalt });
    return verifySecret(secret, stored);
  };
  return { calls, verify };
};

describe('vehicle credentials › refusing', () => {
  const secret = 'the-right-secret-0123456789abcdef';
  const known = { vin: 'LTEST000000000001', ...hashSecret(secret) };

  it('accepts the right secret for a registered vehicle', () => {
    expect(vehicleSecretMatches(known, secret)).toBe(true);
    expect(vehicleSecretMatches(known, Buffer.from(secret))).toBe(true);
  });

  it('hashes and compares once for an unknown VIN, as for a wrong secret, and refuses both', () => {
    const wrong = recording();
    expect(vehicleSecretMatches(known, 'not-the-secret-0123456789abcdef', wrong.verify)).toBe(false);
    const unknown = recording();
    expect(vehicleSecretMatches(undefined, 'not-the-secret-0123456789abcdef', unknown.verify)).toBe(false);
    expect(wrong.calls).toHaveLength(1);
    expect(unknown.calls).toHaveLength(1);
    // Against a stand-in record with its own salt of the same length, not skipped.
    expect(unknown.calls[0]!.salt.length).toBe(known.secretSalt.length);
    expect(unknown.calls[0]!.salt.equals(known.secretSalt)).toBe(false);
  });

  it('does the same work when no secret is given at all', () => {
    const none = recording();
    expect(vehicleSecretMatches(known, undefined, none.verify)).toBe(false);
    expect(vehicleSecretMatches(undefined, undefined, none.verify)).toBe(false);
    expect(none.calls).toHaveLength(2);
  });
});
