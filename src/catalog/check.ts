/**
 * Checks one value against its catalog entry: the VSS datatype (VSS docs, "Datatypes"), the
 * min/max and allowed values of the entry, and Shekara's plausibility bounds. Returns a reason
 * (naming the rule, never the value: values may be personal) or undefined when the value fits.
 */
import type { SignalValue } from '../record.js';
import { hasNonText } from '../text.js';
import type { SignalSpec } from './types.js';

const INT_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};
const FLOAT_MAX = 3.4028234663852886e38;
/** Longest string and list the gateway accepts for any signal. */
export const MAX_STRING = 256;
export const MAX_LIST = 64;

export function checkValue(spec: SignalSpec, v: unknown): string | undefined {
  const d = spec.datatype;
  if (d.endsWith('[]')) {
    if (!Array.isArray(v)) return `expected a list of ${d.slice(0, -2)}`;
    const most = spec.maxItems ?? MAX_LIST;
    if (v.length > most) return `a list of at most ${most} items`;
    for (const item of v) {
      const r = checkScalar(spec, d.slice(0, -2), item);
      if (r) return `an item: ${r}`;
    }
    return undefined;
  }
  return checkScalar(spec, d, v);
}

function checkScalar(spec: SignalSpec, d: string, v: unknown): string | undefined {
  if (d === 'boolean') return typeof v === 'boolean' ? undefined : 'expected true or false';
  if (d === 'string') {
    if (typeof v !== 'string') return 'expected a string';
    if (v.length > MAX_STRING) return `a string of at most ${MAX_STRING} characters`;
    if (hasNonText(v)) return 'holds U+0000 or an unpaired surrogate, which is not text';
    if (spec.allowed && !spec.allowed.includes(v)) return `not one of the allowed values (${spec.allowed.join(', ')})`;
    if (spec.pattern && !spec.pattern.test(v)) return `does not match the pattern ${spec.pattern.source}`;
    if (spec.unit === 'iso8601' && !Number.isFinite(Date.parse(v))) return 'expected an ISO 8601 time';
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return `expected a ${d}`;
  const int = INT_RANGE[d];
  if (int) {
    if (!Number.isInteger(v)) return `expected an integer (${d})`;
    if (v < int[0] || v > int[1]) return `outside the ${d} range`;
  } else if (d === 'float' && Math.abs(v) > FLOAT_MAX) return 'outside the float range';
  if (spec.min !== undefined && v < spec.min) return `below the minimum ${spec.min}`;
  if (spec.max !== undefined && v > spec.max) return `above the maximum ${spec.max}`;
  if (spec.allowed && !spec.allowed.includes(v as SignalValue as never))
    return `not one of the allowed values (${spec.allowed.join(', ')})`;
  return undefined;
}
