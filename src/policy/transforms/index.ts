/** The transform registry: one small module per transform, looked up by name at load time. */
import type { TransformSpec } from './types.js';
import { pass } from './pass.js';
import { drop } from './drop.js';
import { pseudonymize } from './pseudonymize.js';
import { round } from './round.js';
import { bucket } from './bucket.js';
import { map } from './map.js';
import { generalize } from './generalize.js';
import { noise } from './noise.js';

export type * from './types.js';
export { H3_CELL, GRID_CELL } from './generalize.js';

export const TRANSFORMS: Readonly<Record<string, TransformSpec>> = Object.freeze({
  pass,
  drop,
  pseudonymize,
  round,
  bucket,
  map,
  generalize,
  noise,
});
