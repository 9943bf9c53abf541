/**
 * Real-time (0x02) and reissued (0x03) report data units (2016 §7.2.1 table 7; 2025 §7.2.1):
 * the collection time, then information blocks, each a type byte and its body (info.ts).
 *
 * - Vendor types 0x80..0xFE carry a WORD length before their body (2016 §7.2.3.8 table 19;
 *   2025 §7.2.4.12 table 27): they are skipped by it and kept raw.
 * - A reserved type, or a 2025 type no public reference describes, has no length: what follows
 *   cannot be read, so it is kept raw as `unparsed`, with the blocks before it decoded.
 * - 2025: the signed part ends with 0xFF, then the signature: algorithm (BYTE: 1 SM2, 2 RSA,
 *   3 ECC), r (WORD length + bytes), s (WORD length + bytes), up to the end of the data unit.
 *   The signature is kept, not verified (docs/gbt32960.md).
 * - A block that appears twice is decoded once (the first); the repeat is kept raw.
 *
 * A body that runs past the end of the data unit refuses the whole report (UnitError).
 */
import type { Edition } from './frame.js';
import { INFO_2016, INFO_2025, type Infos } from './info.js';
import { Reader, readTime, UnitError } from './reader.js';

export interface RawBlock {
  readonly type: number;
  readonly data: Buffer;
}

export interface Signature {
  readonly algorithm: number;
  readonly r: Buffer;
  readonly s: Buffer;
}

export interface Report {
  readonly time: number;
  readonly infos: Infos;
  /** Vendor blocks and repeats: kept in the country, never decoded to signals. */
  readonly raw: readonly RawBlock[];
  /** From a block whose layout is unknown to the end of the signed part. */
  readonly unparsed?: RawBlock;
  readonly signature?: Signature;
}

const SIGNATURE_START = 0xff;

export function decodeReport(data: Buffer, edition: Edition): Report {
  const table = edition === 2016 ? INFO_2016 : INFO_2025;
  let end = data.length;
  let signature: Signature | undefined;
  const r = new Reader(data, end);
  const time = readTime(r);
  const infos: Infos = {};
  const raw: RawBlock[] = [];
  let unparsed: RawBlock | undefined;
  while (r.left > 0) {
    const type = r.u8('information type');
    if (edition === 2025 && type === SIGNATURE_START) {
      signature = readSignature(new Reader(data, data.length), r.at);
      end = r.at - 1;
      break;
    }
    const known = table[type];
    if (known && infos[known.key] === undefined) {
      known.decode(r, infos);
      continue;
    }
    if (type >= 0x80 && type <= 0xfe) {
      const n = r.u16('vendor block length');
      raw.push({ type, data: Buffer.from(r.bytes(n, 'vendor block')) });
      continue;
    }
    if (known) {
      // A repeat: decode into a scratch object only to find where it ends, keep its bytes.
      const from = r.at;
      known.decode(r, {});
      raw.push({ type, data: Buffer.from(data.subarray(from, r.at)) });
      continue;
    }
    // No length to skip by: the rest (up to a 2025 signature, if one fits) is kept raw.
    const from = r.at;
    if (edition === 2025) {
      const at = findSignature(data, from);
      if (at !== undefined) {
        signature = readSignature(new Reader(data, data.length), at + 1);
        end = at;
      }
    }
    unparsed = { type, data: Buffer.from(data.subarray(from, end)) };
    break;
  }
  if (edition === 2025 && !signature) throw new UnitError('report: the 2025 signature block (0xFF) is missing');
  const out: { -readonly [K in keyof Report]: Report[K] } = { time, infos, raw };
  if (unparsed) out.unparsed = unparsed;
  if (signature) out.signature = signature;
  return out;
}

/** Reads algorithm, r and s from `at` (after the 0xFF); they must end the data unit exactly. */
function readSignature(r: Reader, at: number): Signature {
  r.at = at;
  const algorithm = r.u8('signature algorithm');
  const rb = Buffer.from(r.bytes(r.u16('signature r length'), 'signature r'));
  const sb = Buffer.from(r.bytes(r.u16('signature s length'), 'signature s'));
  if (r.left !== 0) throw new UnitError('report: bytes after the signature');
  return { algorithm, r: rb, s: sb };
}

/** The first 0xFF from `from` after which a well-formed signature ends the data unit exactly. */
function findSignature(data: Buffer, from: number): number | undefined {
  for (let i = from; i + 6 <= data.length; i++) {
    if (data[i] !== SIGNATURE_START || data[i + 1]! < 1 || data[i + 1]! > 3) continue;
    const rl = data.readUInt16BE(i + 2);
    const sAt = i + 4 + rl;
    if (sAt + 2 > data.length) continue;
    if (sAt + 2 + data.readUInt16BE(sAt) === data.length) return i;
  }
  return undefined;
}
