/**
 * Field selectors: a VSS path, or a pattern with `*` (one level) or `**` (any depth below).
 * Deny by default: a signal no selector names never leaves. Three kinds of path are never
 * selected by a wildcard, only by their own name, because each identifies a person by itself:
 * the VIN, the raw position (latitude, longitude) and anything in the Account section.
 */
import { LAT, LON } from './geo.js';

/** VSS-style path: dot-separated identifiers under the Vehicle or Account tree. */
const PATH_RE = /^(Vehicle|Account)(\.[A-Za-z][A-Za-z0-9_]*)+$/;
/** The same with `*` or `**` segments; `**` only last. */
const PATTERN_RE = /^(Vehicle|Account)(\.([A-Za-z][A-Za-z0-9_]*|\*))*(\.\*\*?)$/;
export const VIN_PATH = 'Vehicle.VehicleIdentification.VIN';

export function isPath(s: string): boolean {
  return PATH_RE.test(s);
}

export function isWildcard(s: string): boolean {
  return s.includes('*');
}

/** Checks a wildcard's shape; returns a reason when it is not one. */
export function wildcardProblem(s: string): string | undefined {
  if (!PATTERN_RE.test(s) || s.indexOf('**') !== s.lastIndexOf('**') || (s.includes('**') && !s.endsWith('.**'))) {
    return 'not a signal path or wildcard (expected e.g. Vehicle.Speed, Vehicle.Powertrain.* or Vehicle.Powertrain.**; ** only at the end)';
  }
  return undefined;
}

/** Paths a wildcard never selects. */
export function neverByWildcard(path: string): boolean {
  return path === VIN_PATH || path === LAT || path === LON || path.startsWith('Account.');
}

export interface Matcher {
  readonly pattern: string;
  /** Literal segments before the first `*`: more is more specific, and wins. */
  readonly specificity: number;
  test(path: string): boolean;
}

export function compileWildcard(pattern: string): Matcher {
  const segs = pattern.split('.');
  const deep = segs[segs.length - 1] === '**';
  const fixed = deep ? segs.slice(0, -1) : segs;
  const specificity = fixed.findIndex((s) => s === '*') === -1 ? fixed.length : fixed.findIndex((s) => s === '*');
  return {
    pattern,
    specificity: specificity * 2 + (deep ? 0 : 1),
    test(path) {
      if (neverByWildcard(path)) return false;
      const p = path.split('.');
      if (deep ? p.length <= fixed.length : p.length !== fixed.length) return false;
      for (let i = 0; i < fixed.length; i++) if (fixed[i] !== '*' && fixed[i] !== p[i]) return false;
      return true;
    },
  };
}
