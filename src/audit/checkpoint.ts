/**
 * Signed checkpoints of the egress log (https://c2sp.org/tlog-checkpoint): a signed note
 * whose text is the origin, the tree size and the base64 root hash, one per line.
 *
 *   shekara.example/egress-log
 *   20852163
 *   CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
 *
 *   — shekara.example/egress-log Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe…
 *
 * The log's key name is its origin (tlog-checkpoint "Signatures": it SHOULD match).
 */
import { ErrorCodes, ShekaraError } from '../errors.js';
import { HASH_SIZE } from './merkle.js';
import {
  decodeBase64Strict,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  type NoteSigner,
  type NoteVerifier,
} from './note.js';

export {
  generateSigningKey,
  noteKeyId,
  parseSignerKey,
  parseVerifierKey,
  signerKeyFromPem,
  signerKeyToPem,
  verifierKeyOf,
  type NoteSigner,
  type NoteVerifier,
} from './note.js';

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
}

export interface VerifiedCheckpoint extends Checkpoint {
  readonly rootHash: Buffer;
  /** Opaque extension lines after the root hash (NOT RECOMMENDED by the spec; ours emits none). */
  readonly extensionLines: readonly string[];
}

/** The note text: origin, size and root hash, each ending in "\n" (tlog-checkpoint "Note text"). */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash } = checkpoint;
  // tlog-checkpoint "Note text" 1: the origin MUST be non-empty; being one line, it has no newline.
  if (typeof origin !== 'string' || origin.length === 0 || origin.includes('\n')) {
    throw invalid('malformed-checkpoint', 'checkpoint origin must be one non-empty line');
  }
  if (!Number.isSafeInteger(size) || size < 0)
    throw invalid('malformed-checkpoint', `checkpoint size ${size} is not a tree size`);
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== HASH_SIZE) {
    throw invalid('malformed-checkpoint', `checkpoint root hash must be ${HASH_SIZE} bytes`);
  }
  return `${origin}\n${size}\n${Buffer.from(rootHash).toString('base64')}\n`;
}

/** Signs a checkpoint; `signer` is a NoteSigner or a `PRIVATE+KEY+…` signer key string. */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner | string): string {
  return signNote(formatCheckpoint(checkpoint), typeof signer === 'string' ? parseSignerKey(signer) : signer);
}

/**
 * Verifies the note's signature by `verifierKey`, then parses the checkpoint and checks its
 * origin (by default the key's name). Throws ShekaraError with `details.reason`:
 * - SHK_AUDIT_CHECKPOINT: 'malformed-note' | 'malformed-checkpoint' | 'origin-mismatch'
 * - SHK_AUDIT_SIGNATURE:  'malformed-key' | 'unknown-key' | 'bad-signature'
 */
export function parseAndVerifyCheckpoint(
  noteText: string | Uint8Array,
  verifierKey: string | NoteVerifier,
  expectedOrigin?: string,
): VerifiedCheckpoint {
  const verifier = typeof verifierKey === 'string' ? parseVerifierKey(verifierKey) : verifierKey;
  // signed-note: the text MUST be ignored until a trusted signature over it has verified.
  const text = openNote(noteText, verifier);
  const checkpoint = parseCheckpointText(text);
  const origin = expectedOrigin ?? verifier.name;
  if (checkpoint.origin !== origin) {
    throw invalid(
      'origin-mismatch',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(origin)}`,
    );
  }
  return checkpoint;
}

/** Parses checkpoint note text (already verified) per tlog-checkpoint "Note text". */
function parseCheckpointText(text: string): VerifiedCheckpoint {
  // The text ends in "\n" (signed-note); it is at least three non-empty lines.
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3)
    throw invalid('malformed-checkpoint', `checkpoint has ${lines.length} lines, needs origin, size and root hash`);
  const [origin, sizeText, rootText, ...extensionLines] = lines as [string, string, string, ...string[]];
  // 1. The origin MUST be non-empty.
  if (origin.length === 0) throw invalid('malformed-checkpoint', 'checkpoint origin line is empty');
  // 2. ASCII decimal, no leading zeroes unless the tree is empty.
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeText)) {
    throw invalid('malformed-checkpoint', `checkpoint size ${JSON.stringify(sizeText)} is not a decimal tree size`);
  }
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw invalid('malformed-checkpoint', `checkpoint size ${sizeText} is too large`);
  // 3. Base64 of the RFC 6962 (= RFC 9162 SHA-256) root hash.
  const rootHash = decodeBase64Strict(rootText);
  if (rootHash?.length !== HASH_SIZE) {
    throw invalid('malformed-checkpoint', `checkpoint root hash is not base64 of ${HASH_SIZE} bytes`);
  }
  // 4. Extension lines, if any, MUST be non-empty.
  if (extensionLines.some((line) => line.length === 0))
    throw invalid('malformed-checkpoint', 'checkpoint has an empty extension line');
  return { origin, size, rootHash, extensionLines };
}

function invalid(reason: 'malformed-checkpoint' | 'origin-mismatch', message: string): ShekaraError {
  return new ShekaraError(ErrorCodes.SHK_AUDIT_CHECKPOINT, message, { details: { reason } });
}
