import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isShekaraError, type ErrorCode } from '../../src/errors.js';
import {
  formatCheckpoint,
  generateSigningKey,
  noteKeyId,
  parseAndVerifyCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  signerKeyFromPem,
  signerKeyToPem,
  verifierKeyOf,
} from '../../src/audit/checkpoint.js';
import { openNote, signNote } from '../../src/audit/note.js';

// Known answers from golang.org/x/mod/sumdb/note's note_test.go (TestNewVerifier, TestSign, TestOpen).
const peterVerifierKey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const peterSignerKey = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const enochVerifierKey = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const peterText =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const peterSig =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const enochSig =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

/** The code and details.reason a call fails with, or 'accepted'. */
function failureOf(call: () => unknown): { code: ErrorCode; reason: unknown } | 'accepted' {
  try {
    call();
    return 'accepted';
  } catch (err) {
    if (isShekaraError(err)) return { code: err.code, reason: err.details.reason };
    throw err;
  }
}

const origin = 'shekara.example/egress-log';
const rootHash = createHash('sha256').update('some tree').digest();

describe('checkpoint › note keys', () => {
  it('reproduce the key ID 0xc74f20a3 of the Go note package test key', () => {
    const publicKey = Buffer.from('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'base64').subarray(1);
    expect(noteKeyId('PeterNeumann', publicKey)).toBe(0xc74f20a3);
    expect(parseVerifierKey(peterVerifierKey)).toMatchObject({ name: 'PeterNeumann', keyId: 0xc74f20a3 });
  });

  it('derive the Go test verifier key from the Go test signer key', () => {
    expect(verifierKeyOf(parseSignerKey(peterSignerKey))).toBe(peterVerifierKey);
  });

  it('are refused when any part of the verifier key is cut off or changed (as Go refuses them)', () => {
    const refused = (key: string) => failureOf(() => parseVerifierKey(key));
    for (let i = 0; i <= peterVerifierKey.length; i++) {
      for (let j = i + 1; j <= peterVerifierKey.length; j++) {
        if (i === 0 && j === peterVerifierKey.length) continue;
        expect(refused(peterVerifierKey.slice(i, j)), peterVerifierKey.slice(i, j)).toEqual({
          code: 'SHK_AUDIT_SIGNATURE',
          reason: 'malformed-key',
        });
      }
    }
    for (let i = 0; i < peterVerifierKey.length; i++) {
      const changed =
        peterVerifierKey.slice(0, i) +
        String.fromCharCode(peterVerifierKey.charCodeAt(i) + 1) +
        peterVerifierKey.slice(i + 1);
      expect(refused(changed), changed).toEqual({ code: 'SHK_AUDIT_SIGNATURE', reason: 'malformed-key' });
    }
    // From Go's TestNewVerifier: wrong key length and unknown algorithm, each with a matching key ID.
    expect(refused('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==')).not.toBe('accepted');
    expect(refused('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')).not.toBe('accepted');
  });

  it('generated keys work together and survive a PEM round trip', () => {
    const { signerKey, verifierKey } = generateSigningKey(origin);
    expect(signerKey).toMatch(/^PRIVATE\+KEY\+shekara\.example\/egress-log\+[0-9a-f]{8}\+/);
    expect(verifierKey).toBe(verifierKeyOf(parseSignerKey(signerKey)));
    const pem = signerKeyToPem(signerKey);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(signerKeyFromPem(origin, pem)).toBe(signerKey);
  });

  it('can be made from an existing Ed25519 PEM key, and not from another kind of key', () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(parseSignerKey(signerKeyFromPem(origin, ed)).name).toBe(origin);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect(failureOf(() => signerKeyFromPem(origin, ec))).toEqual({
      code: 'SHK_AUDIT_SIGNATURE',
      reason: 'malformed-key',
    });
  });

  it('refuse key names with spaces or plus signs', () => {
    expect(failureOf(() => generateSigningKey('has space'))).not.toBe('accepted');
    expect(failureOf(() => generateSigningKey('a+b'))).not.toBe('accepted');
    expect(failureOf(() => generateSigningKey(''))).not.toBe('accepted');
  });
});

describe('checkpoint › signed notes', () => {
  it('sign exactly as the Go note package does', () => {
    expect(signNote(peterText, parseSignerKey(peterSignerKey))).toBe(`${peterText}\n${peterSig}`);
  });

  it('open with the known key and ignore signatures by other keys', () => {
    expect(openNote(`${peterText}\n${peterSig}${enochSig}`, parseVerifierKey(peterVerifierKey))).toBe(peterText);
    expect(openNote(Buffer.from(`${peterText}\n${enochSig}${peterSig}`), parseVerifierKey(peterVerifierKey))).toBe(
      peterText,
    );
  });

  it('are refused when no signature is by the known key', () => {
    expect(failureOf(() => openNote(`${peterText}\n${enochSig}`, parseVerifierKey(peterVerifierKey)))).toEqual({
      code: 'SHK_AUDIT_SIGNATURE',
      reason: 'unknown-key',
    });
    expect(failureOf(() => openNote(`${peterText}\n${peterSig}`, parseVerifierKey(enochVerifierKey)))).toEqual({
      code: 'SHK_AUDIT_SIGNATURE',
      reason: 'unknown-key',
    });
  });

  it('are refused when the known key signature is corrupt (Go TestOpen "Invalid signature")', () => {
    const corrupt = `${peterSig.slice(0, 60)}ABCD${peterSig.slice(60)}`;
    expect(failureOf(() => openNote(`${peterText}\n${corrupt}`, parseVerifierKey(peterVerifierKey)))).toEqual({
      code: 'SHK_AUDIT_SIGNATURE',
      reason: 'bad-signature',
    });
  });

  it('are refused when malformed (Go TestOpen bad messages)', () => {
    const bad = [
      peterText,
      `${peterText}\n`,
      `${peterText}\n${peterSig.slice(0, -1)}`,
      `\x01${peterText}\n${peterSig}`,
      Buffer.concat([Buffer.from([0xff]), Buffer.from(`${peterText}\n${peterSig}`)]),
      `${peterText}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${peterText}\n${peterSig}Unexpected line.\n`,
      `${peterText}\n${peterSig.repeat(101)}`,
    ];
    for (const note of bad) {
      expect(failureOf(() => openNote(note, parseVerifierKey(peterVerifierKey)))).toEqual({
        code: 'SHK_AUDIT_CHECKPOINT',
        reason: 'malformed-note',
      });
    }
  });
});

describe('checkpoint › signed checkpoints', () => {
  const { signerKey, verifierKey } = generateSigningKey(origin);
  const note = signCheckpoint({ origin, size: 20852163, rootHash }, signerKey);

  it('have the C2SP layout: origin, size, base64 root, blank line, one signature line', () => {
    const [body, signature] = note.split('\n\n');
    expect(body).toBe(`${origin}\n20852163\n${rootHash.toString('base64')}`);
    expect(signature).toMatch(new RegExp(`^\u2014 ${origin.replace(/\./g, '\\.')} [A-Za-z0-9+/]{91}=\n$`));
    expect(Buffer.from(signature!.split(' ')[2]!, 'base64')).toHaveLength(4 + 64);
  });

  it('round-trip through signing and verification', () => {
    const parsed = parseAndVerifyCheckpoint(note, verifierKey);
    expect(parsed).toEqual({ origin, size: 20852163, rootHash, extensionLines: [] });
  });

  it('of the empty tree round-trip too', () => {
    const empty = createHash('sha256').digest();
    expect(
      parseAndVerifyCheckpoint(signCheckpoint({ origin, size: 0, rootHash: empty }, signerKey), verifierKey).size,
    ).toBe(0);
  });

  it('are refused when the size or the root hash was altered after signing', () => {
    const tamperedSize = note.replace('\n20852163\n', '\n20852164\n');
    const otherRoot = Buffer.from(rootHash).fill(7, 0, 1).toString('base64');
    const tamperedRoot = note.replace(rootHash.toString('base64'), otherRoot);
    for (const tampered of [tamperedSize, tamperedRoot]) {
      expect(tampered).not.toBe(note);
      expect(failureOf(() => parseAndVerifyCheckpoint(tampered, verifierKey))).toEqual({
        code: 'SHK_AUDIT_SIGNATURE',
        reason: 'bad-signature',
      });
    }
  });

  it('are refused under another key, even one with the same name', () => {
    const other = generateSigningKey(origin);
    expect(failureOf(() => parseAndVerifyCheckpoint(note, other.verifierKey))).toEqual({
      code: 'SHK_AUDIT_SIGNATURE',
      reason: 'unknown-key',
    });
    expect(failureOf(() => parseAndVerifyCheckpoint(note, peterVerifierKey))).toEqual({
      code: 'SHK_AUDIT_SIGNATURE',
      reason: 'unknown-key',
    });
  });

  it('are refused when the origin is not the one expected', () => {
    expect(failureOf(() => parseAndVerifyCheckpoint(note, verifierKey, 'other.example/log'))).toEqual({
      code: 'SHK_AUDIT_CHECKPOINT',
      reason: 'origin-mismatch',
    });
    const foreign = signCheckpoint({ origin: 'other.example/log', size: 1, rootHash }, signerKey);
    expect(failureOf(() => parseAndVerifyCheckpoint(foreign, verifierKey))).toEqual({
      code: 'SHK_AUDIT_CHECKPOINT',
      reason: 'origin-mismatch',
    });
  });

  it('are refused when the signed text is not a well-formed checkpoint', () => {
    const signer = parseSignerKey(signerKey);
    const root = rootHash.toString('base64');
    // Same 32 bytes, but the spare bits before '=' are set: base64 that does not round-trip.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const nonCanonicalRoot = root.slice(0, -2) + alphabet[alphabet.indexOf(root.at(-2)!) + 1]! + '=';
    expect(Buffer.from(nonCanonicalRoot, 'base64')).toEqual(rootHash);
    const badBodies = [
      `${origin}\n12\n${nonCanonicalRoot}\n`,
      `${origin}\n20852163\n`,
      `${origin}\n020852163\n${root}\n`,
      `${origin}\n-1\n${root}\n`,
      `${origin}\n9007199254740993\n${root}\n`,
      `${origin}\n12\n${rootHash.subarray(1).toString('base64')}\n`,
      `${origin}\n12\n${root.slice(0, -1)}*\n`,
      `\n12\n${root}\n`,
      `${origin}\n12\n${root}\n\nextension after an empty line\n`,
    ];
    for (const body of badBodies) {
      expect(
        failureOf(() => parseAndVerifyCheckpoint(signNote(body, signer), verifierKey, origin)),
        body,
      ).toEqual({ code: 'SHK_AUDIT_CHECKPOINT', reason: 'malformed-checkpoint' });
    }
  });

  it('keep extension lines apart from the tree head', () => {
    const text = `${formatCheckpoint({ origin, size: 3, rootHash })}ext one\n`;
    const parsed = parseAndVerifyCheckpoint(signNote(text, parseSignerKey(signerKey)), verifierKey);
    expect(parsed.extensionLines).toEqual(['ext one']);
    expect(parsed.size).toBe(3);
  });

  it('are not signed from an invalid tree head', () => {
    for (const bad of [
      { origin: '', size: 1, rootHash },
      { origin: 'a\nb', size: 1, rootHash },
      { origin, size: 1.5, rootHash },
      { origin, size: 1, rootHash: rootHash.subarray(2) },
    ]) {
      expect(failureOf(() => signCheckpoint(bad, signerKey))).toEqual({
        code: 'SHK_AUDIT_CHECKPOINT',
        reason: 'malformed-checkpoint',
      });
    }
  });
});
