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
