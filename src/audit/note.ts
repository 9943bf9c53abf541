/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, in the key-string
 * formats of Go's golang.org/x/mod/sumdb/note so keys interoperate with Go tooling:
 *
 *   verifier key: <name>+<hex key ID>+<base64(0x01 || 32-byte public key)>
 *   signer key:   PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>
 *
 * The signer key is a secret: store it like a password and never log it.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { ErrorCodes, ShekaraError } from '../errors.js';

/** Signed-note signature type byte for Ed25519 (c2sp.org/signed-note, "Signature types"). */
const ALG_ED25519 = 0x01;
/** Go's note package refuses more than 100 signatures; the spec requires at least 16. */
const MAX_SIGNATURES = 100;
/** RFC 8410 PKCS#8 wrapping of a raw 32-byte Ed25519 seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly privateKey: KeyObject;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: KeyObject;
}

/** Machine-readable rejection reasons, in `err.details.reason`. */
export type NoteFailure = 'malformed-note' | 'malformed-key' | 'unknown-key' | 'bad-signature';

/** key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4], big-endian (signed-note). */
export function noteKeyId(name: string, ed25519PublicKey: Uint8Array): number {
  const digest = createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ALG_ED25519]))
    .update(ed25519PublicKey)
    .digest();
  return digest.readUInt32BE(0);
}

/** A fresh Ed25519 key pair for `name`, as the two key strings. */
export function generateSigningKey(name: string): { signerKey: string; verifierKey: string } {
  requireKeyName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const signerKey = formatSignerKey(name, rawSeed(privateKey));
  return { signerKey, verifierKey: verifierKeyOf(parseSignerKey(signerKey)) };
}

/** Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`, checking the ID against the key. */
export function parseSignerKey(signerKey: string): NoteSigner {
  // The base64 part may itself contain '+', so only the first four '+' are separators.
  const parts = splitN(signerKey, '+', 5);
  if (parts?.[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw keyError('signer key does not start with PRIVATE+KEY+');
  const [, , name, idHex, keyB64] = parts as [string, string, string, string, string];
  const key = decodeBase64Strict(keyB64);
  if (!isKeyName(name) || !/^[0-9a-f]{8}$/.test(idHex) || key?.length !== 33 || key[0] !== ALG_ED25519) {
    throw keyError(`signer key for "${name}" is not <name>+<8 hex digits>+<base64 of 0x01 and a 32-byte seed>`);
  }
  const privateKey = privateKeyFromSeed(key.subarray(1));
  const keyId = noteKeyId(name, rawPublicKey(createPublicKey(privateKey)));
  if (keyId !== Number.parseInt(idHex, 16))
    throw keyError(`signer key ID ${idHex} does not match the key for "${name}"`);
  return { name, keyId, privateKey };
}

/** Parses `<name>+<hex id>+<base64(0x01 || public key)>`, checking the ID against the key. */
export function parseVerifierKey(verifierKey: string): NoteVerifier {
  const parts = splitN(verifierKey, '+', 3);
  if (!parts) throw keyError('verifier key is not <name>+<key ID>+<key>');
  const [name, idHex, keyB64] = parts as [string, string, string];
  const key = decodeBase64Strict(keyB64);
  if (!isKeyName(name) || !/^[0-9a-f]{8}$/.test(idHex) || key?.length !== 33 || key[0] !== ALG_ED25519) {
    throw keyError(
      `verifier key for "${name}" is not <name>+<8 hex digits>+<base64 of 0x01 and a 32-byte Ed25519 key>`,
    );
  }
  const keyId = noteKeyId(name, key.subarray(1));
  if (keyId !== Number.parseInt(idHex, 16))
    throw keyError(`verifier key ID ${idHex} does not match the key for "${name}"`);
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: key.subarray(1).toString('base64url') },
    format: 'jwk',
  });
  return { name, keyId, publicKey };
}

/** The verifier key string that checks this signer's notes (safe to publish). */
export function verifierKeyOf(signer: NoteSigner): string {
  const key = Buffer.concat([Buffer.from([ALG_ED25519]), rawPublicKey(createPublicKey(signer.privateKey))]);
  return `${signer.name}+${hex8(signer.keyId)}+${key.toString('base64')}`;
}

/** Wraps an existing Ed25519 private key in PEM (PKCS#8, e.g. from `openssl genpkey`) as a signer key. */
export function signerKeyFromPem(name: string, pem: string): string {
  requireKeyName(name);
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw keyError(`PEM key is ${privateKey.asymmetricKeyType}, not ed25519`);
  return formatSignerKey(name, rawSeed(privateKey));
}

/** The signer key's private key as PKCS#8 PEM. */
export function signerKeyToPem(signerKey: string): string {
  return parseSignerKey(signerKey).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** text + "\n" + "— <name> <base64(key ID || Ed25519 signature over text)>\n" (signed-note "Format"). */
export function signNote(text: string, signer: NoteSigner): string {
  // The note text is non-empty and includes its final newline (signed-note "Format").
  if (text.length === 0 || !text.endsWith('\n')) throw noteError('malformed-note', 'note text must end with a newline');
  requireNoteCharacters(text);
  const keyId = Buffer.alloc(4);
  keyId.writeUInt32BE(signer.keyId);
  const signature = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  return `${text}\n— ${signer.name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
}

/**
 * Returns the note text if `note` carries a valid signature by `verifier`; otherwise throws
 * SHK_AUDIT_CHECKPOINT (malformed note) or SHK_AUDIT_SIGNATURE (unknown key, bad signature).
 * Signatures by other keys are ignored, as signed-note requires.
 */
export function openNote(note: string | Uint8Array, verifier: NoteVerifier): string {
  const message = typeof note === 'string' ? note : decodeUtf8Strict(note);
  requireNoteCharacters(message);
  // The text is separated from the signatures by the last empty line (signed-note "Format").
  const split = message.lastIndexOf('\n\n');
  if (split < 0) throw noteError('malformed-note', 'note has no blank line before its signatures');
  const text = message.slice(0, split + 1);
  const block = message.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n'))
    throw noteError('malformed-note', 'note signature block must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES)
    throw noteError('malformed-note', `note has more than ${MAX_SIGNATURES} signatures`);
  let verified = false;
  for (const line of lines) {
    // "— <key name> base64(32-bit key ID || signature)" (signed-note "Signatures").
    const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
    const sig = match ? decodeBase64Strict(match[2]!) : undefined;
    if (!match || !isKeyName(match[1]!) || sig === undefined || sig.length < 5) {
      throw noteError('malformed-note', `note signature line is malformed: ${JSON.stringify(line.slice(0, 80))}`);
    }
    // Only a signature whose name AND key ID both match is ours; others are ignored.
    if (match[1] !== verifier.name || sig.readUInt32BE(0) !== verifier.keyId) continue;
    if (!verify(null, Buffer.from(text, 'utf8'), verifier.publicKey, sig.subarray(4))) {
      // "If a signature from a known key fails to verify, clients SHOULD reject the whole note."
      throw noteError('bad-signature', `note signature by ${verifier.name}+${hex8(verifier.keyId)} does not verify`);
    }
    verified = true;
  }
  // "If no signature from a known key verifies successfully, clients MUST reject the note."
  if (!verified) throw noteError('unknown-key', `note has no signature by ${verifier.name}+${hex8(verifier.keyId)}`);
  return text;
}

/** Standard base64 (RFC 4648 §4) that round-trips exactly; Buffer.from alone skips bad characters. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

// ---- helpers ----

function requireNoteCharacters(text: string): void {
  // Notes MUST be valid UTF-8 with no control characters other than newline (signed-note "Format").
  if (Buffer.from(text, 'utf8').toString('utf8') !== text) throw noteError('malformed-note', 'note is not valid UTF-8');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw noteError('malformed-note', 'note contains a control character');
}

function decodeUtf8Strict(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw noteError('malformed-note', 'note is not valid UTF-8');
  }
}

/** Key names are non-empty, without Unicode spaces or '+' (signed-note "Format"). */
function isKeyName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name.length > 0 && !/[\s+\u0000-\u001f]/u.test(name) && Buffer.from(name, 'utf8').toString('utf8') === name;
}

function requireKeyName(name: string): void {
  if (!isKeyName(name)) throw keyError(`key name ${JSON.stringify(name)} must be non-empty, without spaces or '+'`);
}

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function formatSignerKey(name: string, seed: Buffer): string {
  const keyId = noteKeyId(name, rawPublicKey(createPublicKey(privateKeyFromSeed(seed))));
  return `PRIVATE+KEY+${name}+${hex8(keyId)}+${Buffer.concat([Buffer.from([ALG_ED25519]), seed]).toString('base64')}`;
}

function rawSeed(privateKey: KeyObject): Buffer {
  return Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  return Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
}

/** Splits on the first n-1 separators; undefined unless there are at least n-1 of them. */
function splitN(text: string, separator: string, n: number): string[] | undefined {
  const parts: string[] = [];
  let rest = text;
  for (let i = 1; i < n; i++) {
    const at = rest.indexOf(separator);
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  return [...parts, rest];
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

function keyError(message: string): ShekaraError {
  return new ShekaraError(ErrorCodes.SHK_AUDIT_SIGNATURE, message, { details: { reason: 'malformed-key' } });
}

function noteError(reason: NoteFailure, message: string): ShekaraError {
  const code = reason === 'malformed-note' ? ErrorCodes.SHK_AUDIT_CHECKPOINT : ErrorCodes.SHK_AUDIT_SIGNATURE;
  return new ShekaraError(code, message, { details: { reason } });
}
