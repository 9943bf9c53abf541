// Checks in the browser, with WebCrypto only, what the gateway's answers claim (docs/audit.md):
// a leaf's canonical bytes and hash, its RFC 9162 inclusion proof, a consistency proof between
// two checkpoints, and a checkpoint's Ed25519 signature (C2SP signed note). Nothing here trusts
// a figure the gateway sent unsigned: sizes and roots are read from the signed note.

const enc = new TextEncoder();

export const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
export const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The platform's SHA-256, or an error that says why there is none (WebCrypto needs HTTPS or localhost). */
export function subtle() {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('no-webcrypto');
  return s;
}

async function sha256(...parts) {
  const n = parts.reduce((k, p) => k + p.length, 0);
  const all = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await subtle().digest('SHA-256', all));
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);
export const leafHash = (bytes) => sha256(LEAF, bytes);
const nodeHash = (l, r) => sha256(NODE, l, r);

const isEven = (n) => n % 2 === 0;
const half = (n) => Math.floor(n / 2);

/** RFC 9162 §2.1.3.2: true when `proof` leads from the leaf hash at `index` to `root` of a tree of `size`. */
export async function verifyInclusion(index, size, hash, proof, root) {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r = hash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (!isEven(fn) || fn === sn) {
      r = await nodeHash(p, r);
      while (isEven(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162 §2.1.4.2: true when `proof` shows the tree of size2 (root2) extends the tree of size1 (root1). */
export async function verifyConsistency(size1, size2, proof, root1, root2) {
  if (!(size1 > 0 && size1 <= size2)) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  let path = proof;
  if ((size1 & (size1 - 1)) === 0) path = [root1, ...proof];
  if (path.length === 0) return false;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (!isEven(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (!isEven(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (isEven(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(fr, root1) && equal(sr, root2);
}

const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Canonical JSON (docs/audit.md "Leaf format"): sorted keys at every depth, integers only. */
export function canonicalJson(v) {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error('not-an-integer');
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object')
    return `{${Object.keys(v)
      .sort(byCodePoint)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  throw new Error('not-json');
}

/**
 * A verifier key `<name>+<key id hex>+<base64(0x01 ‖ Ed25519 public key)>` (Go's note format),
 * with its key id checked: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key).
 */
export async function parseVerifierKey(text) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(text.trim());
  if (!m) throw new Error('malformed-key');
  const [, name, id, b64] = m;
  const raw = fromB64(b64);
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('malformed-key');
  const pub = raw.slice(1);
  const digest = await sha256(enc.encode(name), Uint8Array.of(0x0a, 0x01), pub);
  if (toHex(digest.slice(0, 4)) !== id) throw new Error('malformed-key');
  return { name, id, pub };
}

/**
 * Checks a C2SP signed note with `key` and reads the checkpoint it signs: `{origin, size, root}`.
 * Throws `bad-signature` when no signature line of this key verifies, `ed25519-unsupported`
 * when this browser's WebCrypto has no Ed25519.
 */
export async function verifyCheckpointNote(note, key) {
  const cut = note.indexOf('\n\n');
  if (cut < 0) throw new Error('malformed-note');
  const text = note.slice(0, cut + 1);
  const sigs = note
    .slice(cut + 2)
    .split('\n')
    .filter((l) => l.startsWith(`\u2014 ${key.name} `))
    .map((l) => fromB64(l.slice(key.name.length + 3)))
    .filter((b) => b.length === 68 && toHex(b.slice(0, 4)) === key.id);
  if (sigs.length === 0) throw new Error('unknown-key');
  let pub;
  try {
    pub = await subtle().importKey('raw', key.pub, { name: 'Ed25519' }, false, ['verify']);
  } catch {
    throw new Error('ed25519-unsupported');
  }
  let ok = false;
  for (const s of sigs) ok ||= await subtle().verify({ name: 'Ed25519' }, pub, s.slice(4), enc.encode(text));
  if (!ok) throw new Error('bad-signature');
  const [origin, size, root] = text.split('\n');
  if (origin !== key.name || !/^(0|[1-9][0-9]*)$/.test(size ?? '')) throw new Error('malformed-checkpoint');
  const rootBytes = fromB64(root ?? '');
  if (rootBytes.length !== 32) throw new Error('malformed-checkpoint');
  return { origin, size: Number(size), root: rootBytes };
}

/**
 * Every check of one entry (the answer of GET /regulator/v1/entries/{seq}) against the verifier
 * key, in order; each step is `{step, ok}` and the first failure ends the list.
 * Steps: canonical (the leaf bytes are canonical and say what the entry says), leaf-hash,
 * signature (the checkpoint note, with the key), inclusion (the proof leads to the signed root).
 */
export async function checkEntry(answer, key) {
  const steps = [];
  const step = (name, ok, detail) => {
    steps.push({ step: name, ok, ...(detail ? { detail } : {}) });
    return ok;
  };
  try {
    const { entry, leaf, checkpoint, inclusionProof } = answer;
    const parsed = JSON.parse(leaf.canonical);
    const same =
      canonicalJson(parsed) === leaf.canonical &&
      parsed.kind === 'egress' &&
      parsed.index === leaf.index &&
      leaf.index === entry.leafIndex &&
      ['seq', 'oem', 'pseudonym', 'outcome', 'purpose', 'policyHash', 'recordId', 'payloadSha256'].every(
        (k) => parsed[k] === entry[k],
      ) &&
      parsed.at === Date.parse(entry.at) &&
      canonicalJson(parsed.fieldsSent) === canonicalJson(entry.fieldsSent);
    if (!step('canonical', same)) return steps;
    const hash = await leafHash(enc.encode(leaf.canonical));
    if (!step('leaf-hash', toHex(hash) === leaf.hash)) return steps;
    let signed;
    try {
      signed = await verifyCheckpointNote(checkpoint.note, key);
    } catch (e) {
      step('signature', false, e.message);
      return steps;
    }
    step('signature', true);
    const proof = inclusionProof.map(fromB64);
    step('inclusion', await verifyInclusion(leaf.index, signed.size, hash, proof, signed.root));
  } catch (e) {
    step('malformed', false, e.message);
  }
  return steps;
}

export const verified = (steps) => steps.length > 0 && steps.every((s) => s.ok);
