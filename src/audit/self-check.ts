/**
 * The gateway checks its own log before it signs (docs/audit.md "The gateway checks itself").
 *
 * The stored subtree nodes that proofs are served from can be left alone by someone who edits
 * an entry, so the tree to be signed is rebuilt from the entries themselves, as `shekara verify`
 * does: each entry hashed again (leaf.ts) and compared with its stored leaf hash, the root
 * recomputed from those hashes and compared with the previous checkpoint's root and with the
 * root the stored nodes give.
 *
 * At start every leaf is checked. After that each check reads only the leaves added since, plus
 * old ones (a rolling re-check from leaf 0 against the root already checked) paced by time:
 * RECHECK_PER_SECOND for each second since the previous check, whatever the number of checks
 * (an interval of 100 ms, a burst of signings asked for by the API), so a pass over a log of
 * `size` leaves takes ⌈size / RECHECK_PER_SECOND⌉ s. An entry or leaf hash edited in place after
 * it was checked is found by the end of the pass after the one under way: within
 * 2 × ⌈size / RECHECK_PER_SECOND⌉ s plus two checkpoint intervals (a pass starts at a check).
 *
 * In the gateway on a SQLite file store this runs on a thread of its own (self-check-thread.ts),
 * with `now` the time each request carries; elsewhere on the calling thread.
 */
import { ErrorCodes, ShekaraError } from '../errors.js';
import type { Store, StoredCheckpoint } from '../store/index.js';
import { entryLeafHash } from './leaf.js';
import { CompactRange } from './compact-range.js';

/** Leaves read per store call. */
const PAGE = 1_000;
/** Old leaves re-checked per second between checks, besides the new ones (5,000 per default 5 s interval). */
export const RECHECK_PER_SECOND = 1_000;

export type SelfCheckStore = Pick<Store, 'exportLeaves'>;

export interface SelfCheck {
  /**
   * The root of the first `size` leaves, rebuilt from the stored entries. Throws
   * SHK_AUDIT_SELF_CHECK when an entry does not hash to its stored leaf hash, a leaf is missing,
   * `prev` does not sign the root of its first `prev.size` leaves, or `storedRoot` (what the
   * stored nodes give) differs. Only a passing check moves the checked frontier to `size`.
   */
  check(size: number, prev: Pick<StoredCheckpoint, 'size' | 'root'> | undefined, storedRoot: Buffer): Promise<Buffer>;
}

export function createSelfCheck(store: SelfCheckStore, now: () => number = Date.now): SelfCheck {
  // Leaves [0, checked.size) were checked against their entries and the checkpoints up to there.
  let checked = CompactRange.empty();
  // The rolling re-check: leaves re-read from 0 until `target.size`, whose root must come out again.
  let rolling: { tree: CompactRange; target: { size: number; root: Buffer } } | undefined;
  // When the re-check was last given its share of time, and the fraction of a leaf left over.
  let pacedAt = now();
  let credit = 0;

  /** Appends leaves [tree.size, to) to `tree` from the store, checking each entry; `atSize` sees each size reached. */
  async function extend(tree: CompactRange, to: number, atSize?: (size: number) => void): Promise<void> {
    while (tree.size < to) {
      const page = await store.exportLeaves(tree.size - 1, to, Math.min(PAGE, to - tree.size));
      if (page.length === 0)
        throw selfCheckError('missing-leaf', `leaf ${tree.size} is missing from the store`, tree.size);
      for (const leaf of page) {
        const index = tree.size;
        if (leaf.index !== index)
          throw selfCheckError('missing-leaf', `leaf ${index} is missing from the store`, index);
        const seq = typeof leaf.entry.seq === 'number' ? leaf.entry.seq : null;
        let hash: Buffer;
        try {
          if (leaf.entry.index !== index) throw new Error('index');
          hash = entryLeafHash(leaf.entry);
        } catch {
          throw selfCheckError('leaf-mismatch', `the stored entry of leaf ${index} is not a valid leaf`, index, seq);
        }
        if (hash.toString('hex') !== leaf.leafHash)
          throw selfCheckError(
            'leaf-mismatch',
            `the stored entry of leaf ${index}${seq === null ? '' : ` (entry seq ${seq})`} does not hash to its stored leaf hash; the entry or its hash was altered`,
            index,
            seq,
          );
        tree.append(hash);
        atSize?.(tree.size);
      }
    }
  }

  /** The old leaves this check may re-read: RECHECK_PER_SECOND per second since the last one. */
  function budget(): number {
    const at = now();
    // A clock that stepped back gives nothing, and is not owed later.
    credit += (Math.max(0, at - pacedAt) / 1000) * RECHECK_PER_SECOND;
    pacedAt = at;
    const n = Math.floor(credit);
    credit -= n;
    return n;
  }

  async function recheckOld(): Promise<void> {
    // Taken whether or not it is used: what a finished pass leaves over is not saved up.
    const n = budget();
    if (!rolling) {
      if (checked.size === 0 || n === 0) return;
      rolling = { tree: CompactRange.empty(), target: { size: checked.size, root: checked.root() } };
    }
    const { tree, target } = rolling;
    await extend(tree, Math.min(target.size, tree.size + n));
    if (tree.size < target.size) return;
    rolling = undefined;
    if (!tree.root().equals(target.root))
      throw selfCheckError(
        'root-mismatch',
        `the stored leaf hashes of the first ${target.size} leaves no longer give the root checked and signed before; a leaf hash was altered`,
      );
  }

  return {
    async check(size, prev, storedRoot) {
      // A previous checkpoint below the checked frontier that this check did not pass through
      // (a signing that failed after its check, or another instance on a shared store): start over.
      let tree = CompactRange.fromJSON(checked.toJSON());
      if (prev && prev.size < tree.size) tree = CompactRange.empty();
      const compare = (at: number) => {
        if (prev && at === prev.size && !tree.root().equals(prev.root))
          throw selfCheckError(
            'root-mismatch',
            `the root of the first ${prev.size} stored leaves is not the one the last checkpoint signed; a leaf before index ${prev.size} was altered, removed or reordered`,
          );
      };
      compare(tree.size);
      await extend(tree, size, compare);
      const root = tree.root();
      if (!root.equals(storedRoot))
        throw selfCheckError(
          'node-mismatch',
          `the stored subtree nodes give another root for ${size} leaves than the leaves themselves; proofs would not verify`,
        );
      checked = tree;
      await recheckOld();
      return root;
    },
  };
}

function selfCheckError(reason: string, message: string, index?: number, seq?: number | null): ShekaraError {
  return new ShekaraError(ErrorCodes.SHK_AUDIT_SELF_CHECK, message, {
    details: { reason, ...(index === undefined ? {} : { index }), ...(seq == null ? {} : { seq }) },
  });
}
