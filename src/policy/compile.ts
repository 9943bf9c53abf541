/**
 * Compiles a validated policy file into plain data and functions, once. Every check that can
 * fail fails here, with `file:line path: reason`; the hot path (evaluate.ts) only walks what
 * this produces.
 */
import type { PolicyFile, FieldRule, PurposeDef } from './schema.js';
import { TRANSFORMS, type CompiledLocationTransform, type CompiledValueTransform } from './transforms/index.js';
import { compileWildcard, isPath, isWildcard, wildcardProblem, VIN_PATH, type Matcher } from './selectors.js';
import { LAT, LOCATION, LON, inPolygon, outlineMeetsPolygon, type Point } from './geo.js';
import { decision, type FieldDecision } from './decision.js';
import { parseDuration } from './duration.js';
import type { YamlSource } from '../yaml-source.js';
import { compileCommands, type CompiledCommands } from './commands.js';
import { policyError } from './problem.js';
import { defaultCatalog, type Catalog } from '../catalog/index.js';
import {
  checkExactClass,
  checkWildcardClass,
  leftOutByWildcard,
  takeReason,
  type ClassProblem,
  type NamedLine,
} from './classes.js';

export { VIN_PATH } from './selectors.js';

/** A consent grant lasts at most a year unless the purpose says otherwise: owners are asked again yearly. */
export const DEFAULT_CONSENT_MAX_DAYS = 365;

/** The only transforms under which the VIN may be named: it leaves as a pseudonym or not at all. */
const VIN_SAFE = new Set(['pseudonymize', 'drop']);

export interface CompiledRule {
  readonly selector: string;
  readonly transform: string;
  readonly value: CompiledValueTransform;
  /** The decision every field this rule passes carries (built once). */
  readonly decision: FieldDecision;
  /**
   * An exact line naming an identifier or personal signal (with its reason): the policy lets that
   * value out on purpose, so the identifier detector does not judge it.
   */
  readonly namedIdentifier: boolean;
}

export interface CompiledPurpose {
  readonly id: string;
  readonly description: string;
  readonly legalBasis: 'consent' | 'contract' | 'legal-obligation' | undefined;
  readonly consentRequired: boolean;
  readonly retention: string | undefined;
  /** Longest validity of a consent grant, in days (policy `consentMaxDays`, default DEFAULT_CONSENT_MAX_DAYS). */
  readonly consentMaxDays: number;
  /** Automated decision-making: an open (or upheld) objection stops the purpose for that vehicle. */
  readonly automatedDecisions: boolean;
  readonly minIntervalMs: number;
  readonly timeBucketMs: number;
  readonly exact: ReadonlyMap<string, CompiledRule>;
  /** Most specific first. */
  readonly wildcards: readonly { readonly matcher: Matcher; readonly rule: CompiledRule }[];
  /** The rule on `Vehicle.CurrentLocation` (generalize, noise), if any. */
  readonly location: CompiledLocationTransform | undefined;
  /** True when any form of the position (raw, rounded, generalized, noised) can leave. */
  readonly emitsLocation: boolean;
  readonly trip: { readonly radiusMeters: number; readonly gapMs: number; readonly stopMs: number } | undefined;
  readonly kAnonymity: { readonly k: number; readonly windowMs: number; readonly maxCoarsen: number } | undefined;
  /** selector → transform with options, as written (for check, diff and dry-run output). */
  readonly rules: Readonly<Record<string, string>>;
  /**
   * Catalog signals whose value is a time (unit iso8601), when the purpose buckets time: their
   * values are floored to the bucket like `observedAt`, so nothing in a delivery is finer.
   */
  readonly timeValued: ReadonlySet<string>;
}

export interface CompiledZone {
  readonly name: string;
  contains(p: Point): boolean;
  /** Whether a released cell ([lat, lon] outline) shares any ground with the zone. */
  meets(outline: readonly (readonly [number, number])[]): boolean;
}

export interface CompiledPolicy {
  readonly oem: string;
  readonly version: string | number | undefined;
  readonly hash: string;
  readonly source: string;
  /** The exact file text the hash is over: kept in the activation history. */
  readonly text: string;
  readonly purposes: readonly CompiledPurpose[];
  readonly zones: readonly CompiledZone[];
  /** Downlink commands this OEM may send (src/policy/commands.ts); none without a `commands:` section. */
  readonly commands: CompiledCommands;
  /** Things that are allowed but worth a second look (printed by `policy check`). */
  readonly warnings: readonly string[];
  /** Lines that send a signal that is not technical, with their stated reasons (`policy check`). */
  readonly named: readonly NamedLine[];
  /** The catalog the classes were read from (`VSS v6.0 (20c609bf)`). */
  readonly catalog: string;
}

export function compilePolicy(
  file: PolicyFile,
  hash: string,
  src: YamlSource,
  text: string,
  catalog: Catalog = defaultCatalog(),
): CompiledPolicy {
  const seen = new Set<string>();
  const warnings: string[] = [];
  const named: NamedLine[] = [];
  const purposes = file.purposes.map((purpose, pi) => {
    if (seen.has(purpose.id))
      throw policyError('SHK_POLICY_INVALID', src, ['purposes', pi, 'id'], `duplicate purpose "${purpose.id}"`);
    seen.add(purpose.id);
    return compilePurpose(purpose, src, ['purposes', pi], warnings, { catalog, named });
  });
  const zones = (file.sensitiveZones ?? []).map((z, zi): CompiledZone => {
    const polys = z.geometry.type === 'Polygon' ? [z.geometry.coordinates] : z.geometry.coordinates;
    for (const rings of polys)
      for (const ring of rings)
        for (const pos of ring) {
          if (Math.abs(pos[0]!) > 180 || Math.abs(pos[1]!) > 90) {
            throw policyError(
              'SHK_POLICY_INVALID',
              src,
              ['sensitiveZones', zi, 'geometry'],
              `position [${pos.join(', ')}] is not [longitude, latitude] (RFC 7946 §3.1.1)`,
            );
          }
        }
    // A bounding box first: most points are far from every zone.
    const all = polys.flat(2);
    const [minLon, maxLon] = [Math.min(...all.map((p) => p[0]!)), Math.max(...all.map((p) => p[0]!))];
    const [minLat, maxLat] = [Math.min(...all.map((p) => p[1]!)), Math.max(...all.map((p) => p[1]!))];
    return {
      name: z.name,
      contains: (p) =>
        p.lat >= minLat &&
        p.lat <= maxLat &&
        p.lon >= minLon &&
        p.lon <= maxLon &&
        polys.some((rings) => inPolygon(p, rings)),
      meets: (outline) =>
        outline.some(([lat]) => lat >= minLat) &&
        outline.some(([lat]) => lat <= maxLat) &&
        outline.some(([, lon]) => lon >= minLon) &&
        outline.some(([, lon]) => lon <= maxLon) &&
        polys.some((rings) => outlineMeetsPolygon(outline, rings)),
    };
  });
  const commands = compileCommands(
    file.commands,
    src,
    file.purposes.map((p) => p.id),
  );
  return {
    oem: file.oem,
    version: file.version,
    hash,
    source: src.source,
    text,
    purposes,
    zones,
    commands,
    warnings,
    named,
    catalog: catalog.release,
  };
}

function compilePurpose(
  p: PurposeDef,
  src: YamlSource,
  base: (string | number)[],
  warnings: string[],
  { catalog, named }: { catalog: Catalog; named: NamedLine[] },
): CompiledPurpose {
  const consentRequired = p.consentRequired ?? p.legalBasis === 'consent';
  if (p.legalBasis === 'consent' && !consentRequired) {
    throw policyError(
      'SHK_POLICY_UNSAFE',
      src,
      [...base, 'consentRequired'],
      'a purpose whose legal basis is consent must require consent',
    );
  }
  const exact = new Map<string, CompiledRule>();
  const wildcards: { matcher: Matcher; rule: CompiledRule }[] = [];
  const rules: Record<string, string> = {};
  let location: CompiledLocationTransform | undefined;
  for (const [selector, rule] of Object.entries(p.fields)) {
    const keyPath = [...base, 'fields', selector];
    const { name, options } = splitRule(rule);
    const { reason, problem: badReason } = takeReason(options);
    if (badReason) throw policyError('SHK_POLICY_INVALID', src, [...keyPath, 'reason'], badReason);
    rules[selector] = Object.keys(options).length ? `${name} ${JSON.stringify(options)}` : name;
    const spec = TRANSFORMS[name];
    if (!spec)
      throw policyError(
        'SHK_POLICY_UNKNOWN_TRANSFORM',
        src,
        keyPath,
        `unknown transform "${name}" (known: ${Object.keys(TRANSFORMS).join(', ')})`,
      );
    if (isWildcard(selector)) {
      const problem = wildcardProblem(selector);
      if (problem) throw policyError('SHK_POLICY_INVALID', src, keyPath, problem);
      if (selector.startsWith('Account.') && name !== 'drop') {
        throw policyError(
          'SHK_POLICY_UNSAFE',
          src,
          keyPath,
          'a wildcard may not open the account section: name each Account field that may leave, one by one',
        );
      }
    } else if (!isPath(selector)) {
      throw policyError(
        'SHK_POLICY_INVALID',
        src,
        keyPath,
        'not a signal path (expected e.g. Vehicle.Speed or Account.Owner.Email)',
      );
    }
    if (selector === VIN_PATH && !VIN_SAFE.has(name)) {
      throw policyError(
        'SHK_POLICY_UNSAFE',
        src,
        keyPath,
        `the VIN may only be pseudonymized or dropped, not "${name}"`,
      );
    }
    const extra = Object.keys(options).filter((k) => !spec.options.includes(k));
    if (extra.length > 0)
      throw policyError('SHK_POLICY_INVALID', src, [...keyPath, extra[0]!], `unknown option for transform "${name}"`);
    if (spec.kind === 'location' && selector !== LOCATION) {
      throw policyError(
        'SHK_POLICY_INVALID',
        src,
        keyPath,
        `"${name}" transforms the position as a whole: name it on ${LOCATION}`,
      );
    }
    if (spec.kind === 'value' && selector === LOCATION) {
      throw policyError(
        'SHK_POLICY_INVALID',
        src,
        keyPath,
        `${LOCATION} takes a location transform (generalize, noise); name ${LAT} and ${LON} for value transforms`,
      );
    }
    const classProblem: ClassProblem = isWildcard(selector)
      ? checkWildcardClass(selector, name, catalog)
      : checkExactClass(selector, name, reason, catalog);
    if (classProblem && 'unsafe' in classProblem)
      throw policyError('SHK_POLICY_UNSAFE', src, keyPath, classProblem.unsafe);
    if (!isWildcard(selector) && name !== 'drop' && selector !== LOCATION) {
      const cls = catalog.classOf(selector);
      if (cls !== 'technical') named.push({ purpose: p.id, selector, class: cls, transform: name, reason });
      if (!catalog.lookup(selector))
        warnings.push(`purpose ${p.id}: ${selector} is not in the catalog (${catalog.release}): it never leaves`);
    }
    try {
      if (spec.kind === 'location') location = spec.compile(options);
      else {
        const value = spec.compile(options);
        const compiled: CompiledRule = {
          selector,
          transform: name,
          value,
          decision: decision(value.outcome, value.describe),
          namedIdentifier:
            !isWildcard(selector) && ['identifier', 'personal'].includes(catalog.classOf(selector) as string),
        };
        if (isWildcard(selector)) {
          // Wildcards select technical catalog signals only, whatever else the branch holds.
          const m = compileWildcard(selector);
          const technical = (path: string) => m.test(path) && catalog.lookup(path)?.class === 'technical';
          const left = name === 'drop' ? [] : leftOutByWildcard(m.test, catalog);
          if (left.length)
            warnings.push(
              `purpose ${p.id}: ${selector} does not select ${left.length} signal(s) that are not technical (${left.slice(0, 3).join(', ')}${left.length > 3 ? ', …' : ''}): they leave only when named exactly`,
            );
          wildcards.push({ matcher: { ...m, test: technical }, rule: compiled });
        } else exact.set(selector, compiled);
      }
    } catch (reason) {
      throw policyError('SHK_POLICY_INVALID', src, keyPath, reason instanceof Error ? reason.message : String(reason));
    }
  }
  const rawLat = [LAT, LON].some((x) => exact.has(x) && exact.get(x)!.transform !== 'drop');
  if (location && rawLat)
    throw policyError(
      'SHK_POLICY_INVALID',
      src,
      [...base, 'fields', LOCATION],
      `the position is named twice: on ${LOCATION} and on its latitude/longitude`,
    );
  const emitsLocation = location !== undefined || rawLat;
  if (emitsLocation && !p.tripEndpoints)
    warnings.push(
      `purpose ${p.id}: sends a position without tripEndpoints: trip starts and ends (home, work) can leave`,
    );
  if (p.tripEndpoints && !emitsLocation)
    throw policyError(
      'SHK_POLICY_INVALID',
      src,
      [...base, 'tripEndpoints'],
      'this purpose sends no position, so there is nothing to suppress',
    );
  if (p.kAnonymity && !location?.cellKey) {
    throw policyError(
      'SHK_POLICY_INVALID',
      src,
      [...base, 'kAnonymity'],
      `k-anonymity counts vehicles per generalized cell: name ${LOCATION}: { transform: generalize, … }`,
    );
  }
  wildcards.sort((a, b) => b.matcher.specificity - a.matcher.specificity);
  const dur = (v: string | undefined, key: string, dflt: number) => {
    try {
      return v === undefined ? dflt : parseDuration(v);
    } catch (reason) {
      throw policyError('SHK_POLICY_INVALID', src, [...base, ...key.split('.')], (reason as Error).message);
    }
  };
  const t = p.tripEndpoints;
  const k = p.kAnonymity;
  const timeBucketMs = dur(p.timeBucket, 'timeBucket', 0);
  return {
    id: p.id,
    description: p.description,
    legalBasis: p.legalBasis,
    consentRequired,
    retention: p.retention,
    consentMaxDays: p.consentMaxDays ?? DEFAULT_CONSENT_MAX_DAYS,
    automatedDecisions: p.automatedDecisions ?? false,
    minIntervalMs: dur(p.minInterval, 'minInterval', 0),
    timeBucketMs,
    timeValued: timeBucketMs > 0 ? timeValuedPaths(catalog) : new Set(),
    exact,
    wildcards,
    location,
    emitsLocation,
    rules,
    trip: t && {
      radiusMeters: t.radiusMeters ?? 500,
      gapMs: dur(t.gap, 'tripEndpoints.gap', 300_000),
      stopMs: dur(t.stopAfter, 'tripEndpoints.stopAfter', 180_000),
    },
    kAnonymity: k && {
      k: k.k,
      windowMs: dur(k.window, 'kAnonymity.window', 900_000),
      maxCoarsen: (k.otherwise ?? 'drop') === 'drop' ? 0 : (k.maxCoarsen ?? 2),
    },
  };
}

/** Signals of the catalog (extensions included) whose values are times. */
function timeValuedPaths(catalog: Catalog): Set<string> {
  return new Set(catalog.paths().filter((path) => catalog.lookup(path)?.unit === 'iso8601'));
}

function splitRule(rule: FieldRule): { name: string; options: Record<string, unknown> } {
  if (typeof rule === 'string') return { name: rule, options: {} };
  const { transform, ...options } = rule;
  return { name: transform, options };
}
