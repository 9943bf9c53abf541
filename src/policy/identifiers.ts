/**
 * The identifier detector: the last look at every string a policy lets out. The threat model
 * gives the car's firmware to the OEM, so a car can put anything into a string a policy passes
 * (red-team review M6: a note with the owner's name, phone and national id; the VIN in thirteen
 * disguises; another car's VIN). A string is refused when it holds, in any of the forms below:
 *
 * - this record's VIN or any VIN registered on the gateway;
 * - something shaped like a VIN (17 characters of the VIN alphabet, letters and digits), a
 *   Kazakh IIN (12 digits starting with a valid YYMMDD date), a phone number (+ and 10–15 digits,
 *   or 11 digits starting with 7 or 8), or an e-mail address;
 * - one of this record's account values (owner's name, phone, national id…) or a word of one.
 *
 * Forms: any case, separators between characters, zero-width characters, fullwidth and other
 * compatibility characters (NFKC), URL encoding, reversed, ROT13, and hex, base64, base64url or
 * base32 at any offset (the decoded bytes are searched again). Shapes are looked for in words;
 * known values also with everything but letters and digits removed.
 */

/** What the detector needs to know beyond the string. */
export interface IdentifierContext {
  /** This record's VIN. */
  readonly vin: string;
  /** This record's account values (strings only). */
  readonly account: readonly string[];
  /** Whether a 17-character VIN is registered on this gateway (undefined: only this record's VIN). */
  readonly isRegisteredVin?: (vin: string) => boolean;
}

/** What was found, for the decision reason (never the value itself). */
export type IdentifierKind = 'vin' | 'iin' | 'phone' | 'email' | 'account';

const ZERO_WIDTH = /[\u00AD\u180E\u200B-\u200F\u2060-\u2064\uFEFF]/g;
const VIN_ALPHABET = /^[A-HJ-NPR-Z0-9]{17}$/;
const VIN_SHAPE = /(?<![A-Z0-9])[A-HJ-NPR-Z0-9]{17}(?![A-Z0-9])/g;
const VIN_RUN = /[A-HJ-NPR-Z0-9]{17}/g;
const IIN_SHAPE = /(?<!\d)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])[0-6]\d{5}(?!\d)/;
const PHONE_SHAPE = /(?:\+\d{10,15}|(?<![\d+])[78]\d{10})(?!\d)/;
const EMAIL_SHAPE = /[A-Z0-9._%+-]+@[A-Z0-9-]+(?:\.[A-Z0-9-]+)*\.[A-Z]{2,}/i;
/** Between digits, these are separators (`+7 701 123-45-67`, `900.101.300.123`). */
const DIGIT_SEPARATORS = /(?<=\d)[\s().\-_/]+(?=\d)/g;
const HEX_RUN = /[0-9a-f]{8,}/gi;
const BASE64_RUN = /[A-Za-z0-9+/_-]{8,}={0,2}/g;
const BASE32_RUN = /[A-Z2-7]{8,}=*/gi;
/** Strings shorter than this hold no identifier we look for (account words are at least 4 long). */
const MIN_LENGTH = 4;

/** The first identifier `value` holds, or undefined. */
export function findIdentifier(value: string, ctx: IdentifierContext): IdentifierKind | undefined {
  if (value.length < MIN_LENGTH) return undefined;
  const known = knownValues(ctx);
  const base = normalize(value);
  const decoded = decodings(base).map(normalize);
  for (const view of [base, ...interleaved(base), ...decoded]) {
    // Decoded bytes have no words: a VIN shape glued to a prefix byte (`xLBBBB…`) counts there.
    const shape = decoded.includes(view) ? VIN_RUN : VIN_SHAPE;
    const found =
      inView(view, ctx, known, shape) ??
      inView(reverse(view), ctx, known, shape) ??
      inView(rot13(view), ctx, known, shape);
    if (found) return found;
  }
  return undefined;
}

function inView(
  view: string,
  ctx: IdentifierContext,
  known: readonly string[],
  vinShape: RegExp,
): IdentifierKind | undefined {
  const up = view.toUpperCase();
  for (const m of up.matchAll(vinShape)) if (/\d/.test(m[0]) && /[A-Z]/.test(m[0])) return 'vin';
  const joined = up.replace(DIGIT_SEPARATORS, '');
  if (IIN_SHAPE.test(joined)) return 'iin';
  if (PHONE_SHAPE.test(joined)) return 'phone';
  // A space anywhere in an address (`ivan@ mail.kz`) does not hide it.
  if (EMAIL_SHAPE.test(up.replace(/\s+/g, ''))) return 'email';
  const compact = up.replace(/[^A-Z0-9]/g, '');
  if (compact.length < MIN_LENGTH) return undefined;
  if (compact.includes(ctx.vin.toUpperCase())) return 'vin';
  if (ctx.isRegisteredVin && compact.length >= 17) {
    for (let i = 0; i + 17 <= compact.length; i++) {
      const w = compact.slice(i, i + 17);
      if (VIN_ALPHABET.test(w) && ctx.isRegisteredVin(w)) return 'vin';
    }
  }
  for (const k of known) if (compact.includes(k)) return 'account';
  return undefined;
}

/** The record's account values and their words, compacted like the views are (at least 4 long). */
function knownValues(ctx: IdentifierContext): string[] {
  const out = new Set<string>();
  for (const v of ctx.account) {
    const up = normalize(v).toUpperCase();
    for (const part of [up, ...up.split(/[^A-Z0-9]+/)]) {
      const c = part.replace(/[^A-Z0-9]/g, '');
      if (c.length >= MIN_LENGTH) out.add(c);
    }
  }
  return [...out];
}

/** Compatibility forms folded (fullwidth → ASCII), invisible characters removed, URL encoding undone. */
function normalize(s: string): string {
  let out = s.normalize('NFKC').replace(ZERO_WIDTH, '');
  for (let i = 0; i < 2 && /%[0-9a-f]{2}/i.test(out); i++) {
    try {
      out = decodeURIComponent(out);
    } catch {
      out = out.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
  }
  return out;
}

/** One character, then a separator, and again (`a-b-c`, `a b c`): the text without that separator. */
function interleaved(s: string): string[] {
  const out: string[] = [];
  for (const sep of ['-', ' ', '_', '.', '|', '*', '~', '/', ',', ':']) {
    if (!s.includes(sep)) continue;
    const pieces = s.split(sep);
    if (pieces.length >= 4 && pieces.filter((p) => p.length <= 1).length * 2 >= pieces.length)
      out.push(pieces.join(''));
  }
  return out;
}

/** What hex, base64(url) and base32 runs decode to, from every offset, as Latin-1 text. */
function decodings(s: string): string[] {
  const out: string[] = [];
  for (const [run] of s.matchAll(HEX_RUN))
    for (let off = 0; off < 2; off++) out.push(Buffer.from(run.slice(off), 'hex').toString('latin1'));
  for (const [run] of s.matchAll(BASE64_RUN))
    for (let off = 0; off < 4; off++) out.push(Buffer.from(run.slice(off), 'base64').toString('latin1'));
  for (const [run] of s.matchAll(BASE32_RUN))
    for (let off = 0; off < 8; off++) out.push(base32(run.slice(off).toUpperCase()));
  return out;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(s: string): string {
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const ch of s) {
    const v = B32.indexOf(ch);
    if (v < 0) break;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

const reverse = (s: string) => [...s].reverse().join('');
const rot13 = (s: string) =>
  s.replace(/[a-z]/gi, (c) => {
    const a = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - a + 13) % 26) + a);
  });
