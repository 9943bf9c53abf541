/**
 * What happens to a position on its way out, after the evaluator decided: the released-cell check
 * against trip endpoints, suppression, and the projections a trip held back (released as they
 * are, or without their position at the end of a trip).
 */
import type { Projection, SignalValue } from '../record.js';
import type { CompiledPurpose, CompiledZone } from './compile.js';
import { H3_CELL, GRID_CELL } from './transforms/index.js';
import { VIN_PATH } from './selectors.js';
import { LAT, LON, distanceMeters, inPolygon, type Point } from './geo.js';
import { FieldDecisions, interned, type FieldDecision } from './decision.js';

const LOCATION_OUTPUTS = new Set([LAT, LON, H3_CELL, GRID_CELL]);

export const RELEASED_NEAR_ENDPOINT = interned(
  'suppressed',
  'suppressed: the released cell contains, or its centre lies within the radius of, a trip endpoint',
);

/**
 * Trip-endpoint suppression judged on what is released, not on the raw point: a point just
 * outside the radius generalizes to a cell that may contain the home, or whose centre is
 * next to it (black-box review D2). Such a cell is never released.
 */
export function revealsEndpoint(
  loc: NonNullable<CompiledPurpose['location']>,
  pos: Point,
  level: number,
  endpoints: readonly Point[],
  radius: number,
): boolean {
  if (endpoints.length === 0) return false;
  const cell = loc.cellKey!(pos.lat, pos.lon, level);
  const centre = loc.centre?.(pos.lat, pos.lon, level);
  // A coarsened H3 cell is the parent of the fine one, and H3 parents do not tile their
  // children exactly: the home's own parent may differ while the released cell's outline still
  // covers the home. So the outline is checked too, as the OEM would draw it.
  const outline = loc.cellOutline?.(pos.lat, pos.lon, level);
  const ring = outline && [outline.map(([lat, lon]) => [lon, lat])];
  return endpoints.some(
    (e) =>
      loc.cellKey!(e.lat, e.lon, level) === cell ||
      (ring !== undefined && inPolygon(e, ring)) ||
      (centre !== undefined && distanceMeters(centre, e) <= radius),
  );
}

/**
 * Sensitive zones judged on what is released, as trip endpoints are: a point just outside a
 * clinic generalizes to a cell that covers part of the clinic, or its grid centre falls inside
 * it. The zone is returned when the released cell shares any ground with
 * it, or when the released latitude/longitude (a cell centre, a noised or rounded point) lies
 * in it. The raw point was checked before, so a point inside a zone never gets here.
 */
export function revealedZone(
  zones: readonly CompiledZone[],
  loc: CompiledPurpose['location'],
  pos: Point,
  level: number,
  released: Readonly<Record<string, SignalValue>>,
): CompiledZone | undefined {
  if (zones.length === 0) return undefined;
  const outline = loc?.cellOutline?.(pos.lat, pos.lon, level);
  const [lat, lon] = [released[LAT], released[LON]];
  const point = typeof lat === 'number' && typeof lon === 'number' ? { lat, lon } : undefined;
  return zones.find((z) => (outline !== undefined && z.meets(outline)) || (point !== undefined && z.contains(point)));
}

export function zoneReleaseReason(zone: CompiledZone): FieldDecision {
  return interned('suppressed', `suppressed: the released position falls in sensitive zone "${zone.name}"`);
}

export function suppressLocation(
  signals: Record<string, SignalValue>,
  sent: string[],
  decision: FieldDecisions,
  d: FieldDecision,
): void {
  for (const o of LOCATION_OUTPUTS) delete signals[o];
  for (let i = sent.length - 1; i >= 0; i--) if (LOCATION_OUTPUTS.has(sent[i]!)) sent.splice(i, 1);
  decision.set(LAT, d);
  decision.set(LON, d);
}

function decisionsOf(p: Projection): FieldDecisions {
  return p.decision instanceof FieldDecisions
    ? p.decision
    : new FieldDecisions(
        Object.keys(p.decision?.fields ?? {}),
        Object.values(p.decision?.fields ?? {}),
        p.decision?.notes,
      );
}

/** A held projection sent after all, without its position (the tail of a trip); without a shape (it changed). */
export function stripLocation({ shape: _shape, ...p }: Projection, d: FieldDecision): Projection | undefined {
  const signals = { ...p.signals };
  const sent = [...p.fieldsSent];
  const decision = decisionsOf(p).with({ notes: ['held back near the end of a trip; sent without its position'] });
  suppressLocation(signals, sent, decision, d);
  if (sent.length === 0 || (sent.length === 1 && sent[0] === VIN_PATH)) return undefined;
  return { ...p, signals, fieldsSent: sent, fieldsDropped: decision.dropped(), decision };
}

/** `p` with one more note; without a shape (it changed). */
export function withNote({ shape: _shape, ...p }: Projection, note: string): Projection {
  const decision = decisionsOf(p).with({ notes: [...(p.decision?.notes ?? []), note] });
  return { ...p, fieldsDropped: decision.dropped(), decision };
}
