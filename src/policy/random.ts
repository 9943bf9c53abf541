import { randomFillSync } from 'node:crypto';

/**
 * Uniform [0, 1) from the OS CSPRNG, drawn in blocks so each call costs a read, not a syscall.
 * Noise must not be predictable: Math.random's state can be recovered from its outputs.
 */
export function createSecureRandom(blockBytes = 4096): () => number {
  const buf = Buffer.alloc(blockBytes);
  let off = blockBytes;
  return () => {
    if (off + 4 > blockBytes) {
      randomFillSync(buf);
      off = 0;
    }
    const v = buf.readUInt32LE(off);
    off += 4;
    return v / 4_294_967_296;
  };
}
