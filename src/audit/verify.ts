/**
 * The regulator's verifier, over nothing but an export, one or two checkpoints and the log's
 * public key: no access to the gateway. It
 *   1. checks each checkpoint's Ed25519 signature (c2sp.org/signed-note);
 *   2. rebuilds every leaf hash from its entry (leaf.ts) and compares it with the exported
 *      hash, naming the first entry that differs;
 *   3. recomputes the root at each checkpoint's size (RFC 9162 §2.1.1) and compares it;
 *   4. with two checkpoints, checks a consistency proof between them (RFC 9162 §2.1.4.2);
 *   5. with an entry seq, checks that entry's inclusion proof (RFC 9162 §2.1.3.2).
 * Any failure throws a ShekaraError whose message says where (line, leaf index, seq, checkpoint).
 */
import { ErrorCodes, ShekaraError } from '../errors.js';
import { entryLeafHash } from './leaf.js';
import {
  consistencyProof,
  HASH_SIZE,
  inclusionProof,
  verifyConsistency,
  verifyInclusion,
  type LeafHashSource,
} from './merkle.js';
import { CompactRange } from './compact-range.js';
import { parseAndVerifyCheckpoint, parseVerifierKey, type VerifiedCheckpoint } from './checkpoint.js';

export interface VerifyInput {
  /** The export, as lines (newline optional). */
  readonly lines: AsyncIterable<string> | Iterable<string>;
  /** Checkpoint notes, each with a label for messages (e.g. its file name). */
  readonly checkpoints: readonly { readonly label: string; readonly note: string }[];
  readonly verifierKey: string;
  /** egress_log seq of an entry whose inclusion to check. */
  readonly entrySeq?: number;
  /** Called every 50,000 leaves while reading, never for the final count (the report carries it). */
  readonly onProgress?: (leaves: number) => void;
}

export interface VerifyReport {
  readonly origin: string;
  readonly leaves: number;
  readonly checkpoints: readonly { readonly label: string; readonly size: number; readonly root: string }[];
  readonly consistency?: { readonly from: number; readonly to: number; readonly proofHashes: number };
  readonly entry?: {
    readonly seq: number;
    readonly index: number;
    readonly checkpointSize: number;
    readonly proofHashes: number;
  };
  /** Leaves in the export beyond the largest checkpoint: read, but not covered by a signature. */
  readonly uncovered: number;
}

export async function verifyExport(input: VerifyInput): Promise<VerifyReport> {
  if (input.checkpoints.length === 0) throw exportError('usage', 'at least one checkpoint is needed');
  const key = parseVerifierKey(input.verifierKey);
  const cps = input.checkpoints
    .map(({ label, note }) => {
      try {
        return { label, cp: parseAndVerifyCheckpoint(note, key) };
      } catch (err) {
        const e = err as ShekaraError;
        throw new ShekaraError(e.code, `checkpoint ${label}: ${e.message}`, {
          cause: e,
          details: { ...e.details, checkpoint: label },
        });
      }
    })
    .sort((a, b) => a.cp.size - b.cp.size);
  const bySize = new Map<number, { label: string; cp: VerifiedCheckpoint }[]>();
  for (const c of cps) bySize.set(c.cp.size, [...(bySize.get(c.cp.size) ?? []), c]);
  const maxSize = cps.at(-1)!.cp.size;

  const tree = CompactRange.empty();
  let hashes = Buffer.alloc(HASH_SIZE * 1024);
  let lineNo = 0;
  let entryIndex: number | undefined;
  const checkRoots = () => {
    for (const { label, cp } of bySize.get(tree.size) ?? []) {
      if (!tree.root().equals(cp.rootHash)) {
        throw new ShekaraError(
          ErrorCodes.SHK_AUDIT_PROOF,
          `checkpoint ${label}: the root of the first ${cp.size} leaves of the export is not the signed root; a leaf hash before index ${cp.size} was altered, removed or reordered`,
          { details: { reason: 'root-mismatch', checkpoint: label, size: cp.size } },
        );
      }
    }
  };
  checkRoots(); // a checkpoint of the empty tree

  for await (const raw of input.lines) {
    lineNo += 1;
    const text = raw.trim();
    if (text === '') throw exportError('malformed-line', `line ${lineNo} is empty`, { line: lineNo });
    let line: { index?: unknown; leafHash?: unknown; entry?: unknown };
    try {
      line = JSON.parse(text) as typeof line;
    } catch {
      throw exportError('malformed-line', `line ${lineNo} is not valid JSON`, { line: lineNo });
    }
    const index = tree.size;
    const entry = line?.entry as Record<string, unknown> | undefined;
    const where = `line ${lineNo} (leaf index ${index}${typeof entry?.seq === 'number' ? `, entry seq ${entry.seq}` : ''})`;
    if (line?.index !== index) {
      throw exportError(
        'out-of-order',
        `${where}: says index ${String(line?.index)}; leaves must be exported in order from 0 with none missing`,
        { line: lineNo, index },
      );
    }
    if (typeof entry !== 'object' || entry === null || entry.index !== index) {
      throw exportError('leaf-mismatch', `${where}: its entry does not carry index ${index}`, { line: lineNo, index });
    }
    const hash = entryLeafHash(entry);
    if (typeof line.leafHash !== 'string' || line.leafHash !== hash.toString('hex')) {
      throw exportError(
        'leaf-mismatch',
        `${where}: the entry does not hash to its leafHash; the entry or its hash was altered`,
        { line: lineNo, index, seq: entry.seq ?? null },
      );
    }
    if (input.entrySeq !== undefined && entry.kind === 'egress' && entry.seq === input.entrySeq) entryIndex = index;
    if (hashes.length < (index + 1) * HASH_SIZE) hashes = Buffer.concat([hashes, Buffer.alloc(hashes.length)]);
    hash.copy(hashes, index * HASH_SIZE);
    tree.append(hash);
    checkRoots();
    if (input.onProgress && tree.size % 50_000 === 0) input.onProgress(tree.size);
  }
  if (tree.size < maxSize) {
    throw exportError(
      'truncated',
      `the export has ${tree.size} leaves but checkpoint ${cps.at(-1)!.label} signs ${maxSize}: it was truncated`,
      { leaves: tree.size, size: maxSize },
    );
  }

  const source: LeafHashSource = {
    size: tree.size,
    leafHash: (i) => hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE),
  };
  let consistency: VerifyReport['consistency'];
  const [first, last] = [cps[0]!, cps.at(-1)!];
  if (cps.length > 1 && first.cp.size > 0) {
    // The roots above already match; the proof shows the same with only O(log n) hashes (RFC 9162 §2.1.4.2).
    const proof = consistencyProof(first.cp.size, last.cp.size, source);
    verifyConsistency(first.cp.size, last.cp.size, proof, first.cp.rootHash, last.cp.rootHash);
    consistency = { from: first.cp.size, to: last.cp.size, proofHashes: proof.length };
  }
  let entryReport: VerifyReport['entry'];
  if (input.entrySeq !== undefined) {
    if (entryIndex === undefined)
      throw exportError('entry-not-found', `entry seq ${input.entrySeq} is not in the export`, { seq: input.entrySeq });
    const covering = cps.find((c) => c.cp.size > entryIndex!);
    if (!covering)
      throw exportError(
        'entry-not-covered',
        `entry seq ${input.entrySeq} (leaf ${entryIndex}) is newer than every checkpoint given`,
        { seq: input.entrySeq },
      );
    const proof = inclusionProof(entryIndex, covering.cp.size, source);
    verifyInclusion(entryIndex, covering.cp.size, source.leafHash(entryIndex), proof, covering.cp.rootHash);
    entryReport = {
      seq: input.entrySeq,
      index: entryIndex,
      checkpointSize: covering.cp.size,
      proofHashes: proof.length,
    };
  }
  return {
    origin: first.cp.origin,
    leaves: tree.size,
    checkpoints: cps.map(({ label, cp }) => ({ label, size: cp.size, root: cp.rootHash.toString('base64') })),
    ...(consistency ? { consistency } : {}),
    ...(entryReport ? { entry: entryReport } : {}),
    uncovered: tree.size - maxSize,
  };
}

function exportError(reason: string, message: string, details: Record<string, unknown> = {}): ShekaraError {
  return new ShekaraError(ErrorCodes.SHK_AUDIT_EXPORT, message, { details: { reason, ...details } });
}
