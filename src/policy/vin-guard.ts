/**
 * Defence in depth for "the VIN never leaves": a car (or a compromised head unit) can put its
 * VIN into any free-text signal a policy passes. A passed string that contains the VIN — in
 * any case, or as hex, base64 or base64url — is not sent.
 */
import type { SignalValue } from '../record.js';

/** The VIN itself is the shortest form we look for. */
const MIN = 17;

let lastVin = '';
let lastForms: { upper: readonly string[]; exact: readonly string[] } = { upper: [], exact: [] };

/** Encodings of the VIN, for the last VIN asked (records of one car come in runs). */
function formsOf(vin: string): typeof lastForms {
  if (vin !== lastVin) {
    const b = Buffer.from(vin);
    lastForms = {
      // Compared with the upper-cased value: these forms are case-insensitive.
      upper: [vin.toUpperCase(), b.toString('hex').toUpperCase()],
      // base64 is case-sensitive: compared as-is.
      exact: [b.toString('base64').replace(/=+$/, ''), b.toString('base64url')],
    };
    lastVin = vin;
  }
  return lastForms;
}

export function containsVin(value: SignalValue, vin: string): boolean {
  if (typeof value === 'string') return value.length >= MIN && test(value, vin);
  if (Array.isArray(value))
    return (
      value.some((v: string) => v.length >= MIN && test(v, vin)) ||
      (value.length > 1 && value.join('').length >= MIN && test(value.join(''), vin))
    );
  return false;
}

function test(v: string, vin: string): boolean {
  const f = formsOf(vin);
  const up = v.toUpperCase();
  return f.upper.some((x) => up.includes(x)) || f.exact.some((x) => v.includes(x));
}
