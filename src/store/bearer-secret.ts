/**
 * Bearer secrets of the form `<prefix>_<id>_<secret>`, shared by API keys (`shk`) and owner
 * tokens (`sho`) on every store backend: the id finds the row, the secret is checked against its
 * stored SHA-256 in constant time. 256 random bits need no salt or slow hash; the clear value
 * exists only in what `mint` returns.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

export interface BearerFormat {
  /** A new value: the clear `value` for the caller, the `id` and `hash` to store. */
  mint(): { id: string; value: string; hash: Buffer };
  /** The id and secret of a well-formed value; undefined for anything else. */
  parse(value: string): { id: string; secret: string } | undefined;
  /** Whether `secret` is the one whose hash is stored (constant-time compare). */
  matches(storedHash: Buffer, secret: string): boolean;
}

export function bearerFormat(prefix: string): BearerFormat {
  const re = new RegExp(`^${prefix}_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$`);
  return {
    mint() {
      const id = randomBytes(8).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      return { id, value: `${prefix}_${id}_${secret}`, hash: hashSecret(secret) };
    },
    parse(value) {
      const m = re.exec(value);
      return m ? { id: m[1]!, secret: m[2]! } : undefined;
    },
    matches: (storedHash, secret) => timingSafeEqual(storedHash, hashSecret(secret)),
  };
}
