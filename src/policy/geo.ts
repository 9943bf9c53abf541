/** Small geodesy for record-level location rules. Positions are degrees; distances metres. */
export const LAT = 'Vehicle.CurrentLocation.Latitude';
export const LON = 'Vehicle.CurrentLocation.Longitude';
/** The branch a location transform (generalize, noise) is named on: latitude and longitude together. */
export const LOCATION = 'Vehicle.CurrentLocation';

export interface Point {
  readonly lat: number;
  readonly lon: number;
}

const R = 6_371_008.8; // mean Earth radius (IUGG)
const RAD = Math.PI / 180;

/** Great-circle distance (haversine). */
export function distanceMeters(a: Point, b: Point): number {
  const dLat = (b.lat - a.lat) * RAD;
  const dLon = (b.lon - a.lon) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Ray casting on [lon, lat] rings; the first ring is the outline, the rest are holes (RFC 7946 §3.1.6). */
export function inPolygon(p: Point, rings: readonly (readonly (readonly number[])[])[]): boolean {
  if (rings.length === 0 || !inRing(p, rings[0]!)) return false;
  for (let i = 1; i < rings.length; i++) if (inRing(p, rings[i]!)) return false;
  return true;
}

function inRing(p: Point, ring: readonly (readonly number[])[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    if (yi > p.lat !== yj > p.lat && p.lon < ((xj - xi) * (p.lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Whether a released cell's outline ([lat, lon] vertices) shares any ground with a polygon
 * ([lon, lat] rings, holes after the outline): a vertex of one inside the other, or two edges
 * that cross or touch. Planar in degrees, which is exact enough for cells and zones of a few
 * km; touching counts as meeting, so the answer errs toward suppression.
 */
export function outlineMeetsPolygon(
  outline: readonly (readonly [number, number])[],
  rings: readonly (readonly (readonly number[])[])[],
): boolean {
  const cell = outline.map(([lat, lon]) => [lon, lat] as const);
  if (cell.some(([lon, lat]) => inPolygon({ lat, lon }, rings))) return true;
  const outer = rings[0] ?? [];
  if (outer.some((v) => inRing({ lon: v[0]!, lat: v[1]! }, cell))) return true;
  for (const ring of rings)
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++)
      for (let k = 0, m = cell.length - 1; k < cell.length; m = k++)
        if (segmentsMeet(ring[j]!, ring[i]!, cell[m]!, cell[k]!)) return true;
  return false;
}

function segmentsMeet(a: readonly number[], b: readonly number[], c: readonly number[], d: readonly number[]): boolean {
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && onSegment(a, c, b)) ||
    (o2 === 0 && onSegment(a, d, b)) ||
    (o3 === 0 && onSegment(c, a, d)) ||
    (o4 === 0 && onSegment(c, b, d))
  );
}

function orient(a: readonly number[], b: readonly number[], c: readonly number[]): number {
  return Math.sign((b[0]! - a[0]!) * (c[1]! - a[1]!) - (b[1]! - a[1]!) * (c[0]! - a[0]!));
}

/** q on segment pr, given the three are collinear. */
function onSegment(p: readonly number[], q: readonly number[], r: readonly number[]): boolean {
  return (
    Math.min(p[0]!, r[0]!) <= q[0]! &&
    q[0]! <= Math.max(p[0]!, r[0]!) &&
    Math.min(p[1]!, r[1]!) <= q[1]! &&
    q[1]! <= Math.max(p[1]!, r[1]!)
  );
}
