import { createRequire } from 'node:module';
import type * as H3 from 'h3-js';
import { oneOf, positiveNumber, type LocationTransformSpec } from './types.js';
import { LAT, LON } from '../geo.js';

export const H3_CELL = 'Vehicle.CurrentLocation.H3Cell';
export const GRID_CELL = 'Vehicle.CurrentLocation.GridCell';
const M_PER_DEG = 111_320;

/**
 * h3-js (an Emscripten build, ~110 ms of CPU to load) is loaded by the first policy that
 * generalizes with H3, not by every process that imports the policy engine: each `shekara`
 * command and gateway does, and few policies use H3. compile() is synchronous, hence require.
 */
let h3: typeof H3 | undefined;
const loadH3 = (): typeof H3 => (h3 ??= createRequire(import.meta.url)('h3-js') as typeof H3);

/**
 * Generalizes the position to an H3 cell (`method: h3`, `resolution` 0–15) or a square metre
 * grid (`method: grid`, `cellMeters`), and sends the cell id (`emit: cell`) or the cell's
 * centre as latitude/longitude (`emit: centre`). Coarsening (k-anonymity) goes one H3
 * resolution down, or doubles the grid cell, per step.
 */
export const generalize: LocationTransformSpec = {
  kind: 'location',
  options: ['method', 'resolution', 'cellMeters', 'emit'],
  compile(options) {
    const method = oneOf(options, 'method', ['h3', 'grid'] as const, 'h3');
    const emit = oneOf(options, 'emit', ['cell', 'centre'] as const, 'cell');
    if (method === 'h3') {
      if (options.cellMeters !== undefined) throw new Error('cellMeters is for method: grid; H3 takes resolution');
      const res = options.resolution ?? 7;
      if (typeof res !== 'number' || !Number.isInteger(res) || res < 0 || res > 15)
        throw new Error(`resolution must be an H3 resolution 0..15, got ${JSON.stringify(res)}`);
      const { cellToBoundary, cellToLatLng, cellToParent, latLngToCell } = loadH3();
      const cellKey = (lat: number, lon: number, level: number) => {
        const cell = latLngToCell(lat, lon, res);
        return level === 0 ? cell : cellToParent(cell, Math.max(0, res - level));
      };
      return {
        outputs: emit === 'cell' ? [H3_CELL] : [LAT, LON],
        cellKey,
        centre: (lat, lon, level) => {
          const [clat, clon] = cellToLatLng(cellKey(lat, lon, level));
          return { lat: clat, lon: clon };
        },
        cellOutline: (lat, lon, level) => cellToBoundary(cellKey(lat, lon, level)) as [number, number][],
        describe: (level) =>
          `generalized to H3 res ${Math.max(0, res - level)}${emit === 'centre' ? ' (cell centre)' : ''}`,
        apply(lat, lon, _ctx, level, out) {
          const cell = cellKey(lat, lon, level);
          if (emit === 'cell') out[H3_CELL] = cell;
          else [out[LAT], out[LON]] = cellToLatLng(cell);
        },
      };
    }
    if (options.resolution !== undefined) throw new Error('resolution is for method: h3; a grid takes cellMeters');
    const size = positiveNumber(options, 'cellMeters', 1000);
    if (size < 10) throw new Error('cellMeters must be at least 10');
    const cell = (lat: number, lon: number, level: number) => {
      const s = size * 2 ** level;
      const iy = Math.floor((lat * M_PER_DEG) / s);
      // Columns are sized at the row's centre latitude, so cells stay roughly square.
      const mPerDegLon = M_PER_DEG * Math.max(0.01, Math.cos((((iy + 0.5) * s) / M_PER_DEG) * (Math.PI / 180)));
      const ix = Math.floor((lon * mPerDegLon) / s);
      return { s, iy, ix, mPerDegLon };
    };
    return {
      outputs: emit === 'cell' ? [GRID_CELL] : [LAT, LON],
      cellKey: (lat, lon, level) => {
        const c = cell(lat, lon, level);
        return `${c.s}:${c.iy}:${c.ix}`;
      },
      centre: (lat, lon, level) => {
        const c = cell(lat, lon, level);
        return { lat: ((c.iy + 0.5) * c.s) / M_PER_DEG, lon: ((c.ix + 0.5) * c.s) / c.mPerDegLon };
      },
      cellOutline: (lat, lon, level) => {
        const c = cell(lat, lon, level);
        const [s, n] = [(c.iy * c.s) / M_PER_DEG, ((c.iy + 1) * c.s) / M_PER_DEG];
        const [w, e] = [(c.ix * c.s) / c.mPerDegLon, ((c.ix + 1) * c.s) / c.mPerDegLon];
        return [
          [s, w],
          [s, e],
          [n, e],
          [n, w],
        ];
      },
      describe: (level) => `generalized to a ${size * 2 ** level} m grid${emit === 'centre' ? ' (cell centre)' : ''}`,
      apply(lat, lon, _ctx, level, out) {
        const c = cell(lat, lon, level);
        if (emit === 'cell') out[GRID_CELL] = `${c.s}:${c.iy}:${c.ix}`;
        else {
          out[LAT] = Number((((c.iy + 0.5) * c.s) / M_PER_DEG).toFixed(6));
          out[LON] = Number((((c.ix + 0.5) * c.s) / c.mPerDegLon).toFixed(6));
        }
      },
    };
  },
};
