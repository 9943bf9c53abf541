/**
 * The signal catalog: every path a car may send, with its type, unit, range, allowed values
 * and privacy class. The base is a pinned COVESA VSS release (src/catalog/vss/, MPL-2.0),
 * tightened by Shekara's plausibility bounds, plus the gateway's own Account branch and the
 * operator's private branches from config (`catalog.extensions`, `catalog.classes`).
 *
 * A path outside the catalog is not a signal the gateway understands: it is kept in the
 * country and never egressed (src/decoder.ts).
 */
import { readFileSync } from 'node:fs';
import { classify, isCoordinate, PRIVACY_CLASSES, type PrivacyClass } from './classes.js';
import type { SignalSpec } from './types.js';
import { GBT32960_LONG_VSS_LISTS, GBT32960_MAX_ITEMS, GBT32960_SIGNALS } from './gbt32960.js';

export type { SignalSpec } from './types.js';
export { checkValue } from './check.js';
export { PRIVACY_CLASSES, NAMED_ONLY, isCoordinate, type PrivacyClass } from './classes.js';

interface VssEntry {
  t: string;
  d: string;
  u?: string;
  min?: number;
  max?: number;
  a?: (string | number)[];
  re?: string;
  /** Longest list accepted, where a source needs more than MAX_LIST. */
  n?: number;
}
interface VssFile {
  release: string;
  commit: string;
  defs: VssEntry[];
  signals: Record<string, number>;
  branches: string[];
}

/** Resolves from src/catalog (tests) and dist/catalog (the build copies vss/ beside it). */
const vss = JSON.parse(readFileSync(new URL('./vss/vss.json', import.meta.url), 'utf8')) as VssFile;

/** The VSS release the catalog is built from, e.g. `v6.0 (20c609bf)`. */
export const VSS_RELEASE = `${vss.release} (${vss.commit.slice(0, 8)})`;

type Bounds = Partial<Pick<VssEntry, 'min' | 'max' | 're' | 'd' | 'n' | 'u'>>;
/**
 * Shekara's plausibility bounds where VSS leaves a range open: a reading outside them is a
 * broken sensor or a forged payload, not data (the old decoder's ranges, kept).
 */
const BOUNDS: Readonly<Record<string, Bounds>> = {
  'Vehicle.Speed': { min: -50, max: 500 },
  // shekara-json/1 `odometer` is km with decimals (docs/telemetry.md); VSS v6 says uint32 m.
  'Vehicle.TraveledDistance': { d: 'double', u: 'km', min: 0, max: 10_000_000 },
  'Vehicle.CurrentLocation.Altitude': { min: -500, max: 9000 },
  'Vehicle.LowVoltageBattery.CurrentVoltage': { min: 0, max: 1000 },
  'Vehicle.Cabin.HVAC.AmbientAirTemperature': { min: -80, max: 100 },
  'Vehicle.Exterior.AirTemperature': { min: -80, max: 100 },
  // SAE J2012 trouble codes: a letter and four hex digits (VSS describes, does not constrain).
  'Vehicle.OBD.DTCList': { re: '^[PCBU][0-9A-F]{4}$' },
  'Vehicle.OBD.FreezeDTC': { re: '^[PCBU][0-9A-F]{4}$' },
  'Vehicle.Diagnostics.DTCList': { re: '^[PCBU][0-9A-F]{4}$' },
  // A GB/T 32960 frame carries up to 200 cells per pack, and packs by the dozen.
  ...Object.fromEntries(GBT32960_LONG_VSS_LISTS.map((p) => [p, { n: GBT32960_MAX_ITEMS }])),
};

/** The gateway's own section for owner and driver data (not VSS): strings, personal by definition. */
export const ACCOUNT_PATHS = [
  'Account.Owner.Name',
  'Account.Owner.Phone',
  'Account.Owner.NationalId',
  'Account.Owner.Email',
  'Account.Driver.Name',
  'Account.Driver.Phone',
  'Account.Driver.LicenseNumber',
] as const;

/** An operator's private signal (config `catalog.extensions`). */
export interface CatalogExtension {
  readonly path: string;
  readonly datatype: string;
  readonly class: PrivacyClass;
  readonly unit?: string | undefined;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  readonly allowed?: readonly (string | number)[] | undefined;
  readonly pattern?: string | undefined;
}

export interface CatalogConfig {
  readonly extensions?: readonly CatalogExtension[];
  /** Branch or path → class, overriding the defaults (coordinates stay `location`). */
  readonly classes?: Readonly<Record<string, PrivacyClass>>;
}

export interface Catalog {
  readonly release: string;
  lookup(path: string): SignalSpec | undefined;
  /** The class of a path or branch, whether or not it is a signal. */
  classOf(path: string): PrivacyClass;
  /** Signals whose path contains every word of `text` (case-insensitive), sorted. */
  search(text: string, limit?: number): SignalSpec[];
  /** Every signal path (for property tests and `catalog search`). */
  paths(): readonly string[];
  isBranch(path: string): boolean;
}

export const DATATYPES = [
  'boolean',
  'string',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float',
  'double',
] as const;
const PATH_RE = /^(Vehicle|Account)(\.[A-Za-z][A-Za-z0-9_]*)+$/;

/** Checks config extensions; returns problems as `catalog.extensions[i]: reason`. */
export function catalogProblems(cfg: CatalogConfig): string[] {
  const out: string[] = [];
  (cfg.extensions ?? []).forEach((e, i) => {
    const at = `catalog.extensions[${i}]`;
    if (!PATH_RE.test(e.path)) out.push(`${at}.path: not a signal path (e.g. Vehicle.Private.Acme.X)`);
    if (!(DATATYPES as readonly string[]).includes(e.datatype.replace(/\[\]$/, '')))
      out.push(`${at}.datatype: expected one of ${DATATYPES.join(', ')} (or a list: string[])`);
    if (isCoordinate(e.path) && e.class !== 'location')
      out.push(`${at}.class: a latitude or longitude is always location`);
    if (e.pattern !== undefined) {
      try {
        new RegExp(e.pattern);
      } catch {
        out.push(`${at}.pattern: not a regular expression`);
      }
    }
  });
  for (const [p, c] of Object.entries(cfg.classes ?? {})) {
    if (!PATH_RE.test(p)) out.push(`catalog.classes.${p}: not a branch or signal path`);
    if (!(PRIVACY_CLASSES as readonly string[]).includes(c))
      out.push(`catalog.classes.${p}: expected one of ${PRIVACY_CLASSES.join(', ')}`);
    if (isCoordinate(p) && c !== 'location')
      out.push(`catalog.classes.${p}: a latitude or longitude is always location`);
  }
  return out;
}

export function createCatalog(cfg: CatalogConfig = {}): Catalog {
  const problems = catalogProblems(cfg);
  if (problems.length) throw new Error(`invalid catalog config: ${problems.join('; ')}`);
  const overrides = new Map<string, PrivacyClass>(Object.entries(cfg.classes ?? {}));
  for (const e of cfg.extensions ?? []) overrides.set(e.path, e.class);
  const specs = new Map<string, SignalSpec>();
  const branches = new Set(vss.branches);
  const origin = `VSS ${vss.release}`;
  const make = (path: string, e: VssEntry, from: string): SignalSpec => {
    const free = e.d.startsWith('string') && !e.a && !e.re && e.u !== 'iso8601';
    return Object.freeze({
      path,
      type: e.t,
      datatype: e.d,
      unit: e.u,
      min: e.min,
      max: e.max,
      allowed: e.a,
      pattern: e.re === undefined ? undefined : new RegExp(e.re),
      maxItems: e.n,
      class: classify(path, overrides, free),
      origin: from,
    });
  };
  for (const [path, i] of Object.entries(vss.signals)) {
    const b = BOUNDS[path];
    specs.set(
      path,
      make(path, b ? { ...vss.defs[i]!, ...b } : vss.defs[i]!, b ? `${origin} + Shekara bounds` : origin),
    );
  }
  for (const path of ACCOUNT_PATHS) specs.set(path, make(path, { t: 'attribute', d: 'string' }, 'Shekara account'));
  /** A Shekara or operator extension: a sensor with the given class, its branches known. */
  const extend = (e: CatalogExtension & { readonly maxItems?: number }, from: string) => {
    const entry: VssEntry = { t: 'sensor', d: e.datatype };
    if (e.unit !== undefined) entry.u = e.unit;
    if (e.min !== undefined) entry.min = e.min;
    if (e.max !== undefined) entry.max = e.max;
    if (e.allowed !== undefined) entry.a = [...e.allowed];
    if (e.pattern !== undefined) entry.re = e.pattern;
    if (e.maxItems !== undefined) entry.n = e.maxItems;
    specs.set(e.path, { ...make(e.path, entry, from), class: e.class });
    const segs = e.path.split('.');
    for (let i = 1; i < segs.length; i++) branches.add(segs.slice(0, i).join('.'));
  };
  for (const g of GBT32960_SIGNALS) extend(g, 'Shekara GB/T 32960');
  for (const e of cfg.extensions ?? []) extend(e, 'config');
  for (const p of ACCOUNT_PATHS) {
    const segs = p.split('.');
    for (let i = 1; i < segs.length; i++) branches.add(segs.slice(0, i).join('.'));
  }
  const sorted = [...specs.keys()].sort();
  return {
    release: VSS_RELEASE,
    lookup: (path) => specs.get(path),
    classOf: (path) => specs.get(path)?.class ?? classify(path, overrides, false),
    isBranch: (path) => branches.has(path),
    paths: () => sorted,
    search(text, limit = 50) {
      const words = text.toLowerCase().split(/\s+/).filter(Boolean);
      const out: SignalSpec[] = [];
      for (const p of sorted) {
        const lower = p.toLowerCase();
        if (words.every((w) => lower.includes(w))) out.push(specs.get(p)!);
        if (out.length >= limit) break;
      }
      return out;
    },
  };
}

let standard: Catalog | undefined;
/** The catalog without operator extensions (VSS + Shekara bounds + Account). */
export function defaultCatalog(): Catalog {
  return (standard ??= createCatalog());
}
