/**
 * Policy rules checked against the catalog's privacy classes (src/catalog/classes.ts), at
 * compile time, so that what a line can send is decided by the signal's class, not by how
 * broad the author's wildcard is:
 *
 * - a wildcard selects `technical` catalog signals only; one rooted in a branch that is not
 *   technical (`Vehicle.VehicleIdentification.**`, `Vehicle.Driver.*`) is refused;
 * - `identifier`, `personal`, `free-text` and `sensitive` signals leave only when named by
 *   exact path with a stated `reason` (GDPR Art. 5(1)(c), data minimisation; the reason is
 *   what the regulator reads in `policy check`);
 * - the current position leaves generalized, or raw only with a `reason` saying why exact
 *   position is needed; other positions (navigation destination, charging location) have no
 *   location rules yet and cannot leave at all.
 */
import { NAMED_ONLY, type Catalog, type PrivacyClass } from '../catalog/index.js';
import { LAT, LOCATION, LON } from './geo.js';
import { VIN_PATH } from './selectors.js';

/** A rule line that sends a non-technical signal, as `policy check` reports it. */
export interface NamedLine {
  readonly purpose: string;
  readonly selector: string;
  readonly class: PrivacyClass;
  readonly transform: string;
  readonly reason: string | undefined;
}

export type ClassProblem = { readonly unsafe: string } | { readonly invalid: string } | undefined;

/** The literal part of a wildcard: `Vehicle.Powertrain.**` → `Vehicle.Powertrain`. */
export function wildcardRoot(selector: string): string {
  const segs = selector.split('.');
  const star = segs.findIndex((s) => s.includes('*'));
  return segs.slice(0, star).join('.');
}

export function checkWildcardClass(selector: string, transform: string, catalog: Catalog): ClassProblem {
  if (transform === 'drop') return undefined;
  const root = wildcardRoot(selector);
  const cls = catalog.classOf(root);
  if (cls !== 'technical' && root.split('.').length > 1)
    return {
      unsafe: `${root} is a branch of class ${cls}: wildcards select technical signals only; name each signal that may leave by its exact path, with a reason`,
    };
  return undefined;
}

/** Non-technical catalog signals a wildcard covers but will not select (for `policy check`). */
export function leftOutByWildcard(test: (path: string) => boolean, catalog: Catalog): string[] {
  return catalog.paths().filter((p) => test(p) && catalog.lookup(p)!.class !== 'technical');
}

export function checkExactClass(
  selector: string,
  transform: string,
  reason: string | undefined,
  catalog: Catalog,
): ClassProblem {
  if (transform === 'drop' || selector === LOCATION) return undefined;
  const cls = catalog.classOf(selector);
  if (cls === 'location') {
    if (selector !== LAT && selector !== LON)
      return {
        unsafe: `${selector} is a position with no location rules (trip endpoints, zones, generalization) in this version: it cannot leave`,
      };
    if (reason === undefined)
      return {
        unsafe: `sends the position without generalization: name ${LOCATION} with generalize, or say why the exact position is needed (reason: …)`,
      };
    return undefined;
  }
  // The VIN leaves only as a keyed pseudonym (compile.ts VIN_SAFE); `policy check` lists it.
  if (selector === VIN_PATH) return undefined;
  if (NAMED_ONLY.has(cls) && reason === undefined)
    return { unsafe: `${selector} is ${cls} data: it leaves only with a stated reason (reason: …)` };
  return undefined;
}

/** Takes the class-level option `reason` out of a rule's options (no transform sees it). */
export function takeReason(options: Record<string, unknown>): { reason: string | undefined; problem?: string } {
  if (!('reason' in options)) return { reason: undefined };
  const { reason } = options;
  delete options.reason;
  if (typeof reason !== 'string' || reason.trim().length < 3)
    return { reason: undefined, problem: 'reason: expected a sentence saying why this field must leave' };
  return { reason: reason.trim() };
}
