/**
 * The compact range (frontier) of a stored Merkle tree needs no table of its own: its hashes are
 * the stored perfect-subtree roots (level 0: leaves) named by the binary digits of the tree
 * size. Shared by every store backend (sqlite.ts, pg.ts).
 */
import { CompactRange } from '../../audit/compact-range.js';

/** The perfect subtrees whose roots make up the frontier of a tree of `size` leaves, largest first. */
export function frontierSubtrees(size: number): { level: number; index: number }[] {
  const out: { level: number; index: number }[] = [];
  let start = 0;
  for (let level = Math.floor(Math.log2(Math.max(size, 1))); level >= 0; level--) {
    if (Math.floor(size / 2 ** level) % 2 === 0) continue;
    out.push({ level, index: start / 2 ** level });
    start += 2 ** level;
  }
  return out;
}

/** The frontier of `size` leaves from its subtree roots; `hashOf` returns undefined for a missing one. */
export function frontierFrom(size: number, hashOf: (level: number, index: number) => Buffer | undefined): CompactRange {
  const hashes = frontierSubtrees(size).map(({ level, index }) => {
    const h = hashOf(level, index);
    if (!h) throw new Error(`audit tree: the subtree root at level ${level}, leaf ${index * 2 ** level} is missing`);
    return h.toString('hex');
  });
  return CompactRange.fromJSON({ size, hashes });
}
