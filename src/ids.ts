import { randomBytes } from 'node:crypto';

let lastMs = -1;
let seq = 0;

/** Random bytes drawn 4 KB at a time: one call into the CSPRNG per 256 ids, not one per id. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;
function random16(): Buffer {
  if (poolAt + 16 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const b = Buffer.allocUnsafe(16);
  pool.copy(b, 0, poolAt, poolAt + 16);
  pool.fill(0, poolAt, poolAt + 16); // bytes handed out once are not left behind
  poolAt += 16;
  return b;
}

/**
 * UUIDv7 (RFC 9562 §5.7): 48-bit ms timestamp, then random bits. Ids made in the same
 * millisecond stay ordered through a 12-bit counter in rand_a (RFC 9562 §6.2, method 1).
 */
export function uuidv7(now: number = Date.now()): string {
  if (now <= lastMs) {
    seq += 1;
    if (seq > 0xfff) {
      lastMs += 1;
      seq = 0;
    }
    now = lastMs;
  } else {
    lastMs = now;
    seq = 0;
  }
  const b = random16();
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | ((seq >> 8) & 0x0f);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The millisecond timestamp a UUIDv7 was made at (its first 48 bits); NaN for anything else. */
export function uuidv7Time(id: string): number {
  return id.length >= 13 && id[14] === '7' ? parseInt(id.slice(0, 8) + id.slice(9, 13), 16) : NaN;
}
