/** The transform registry: one small module per transform, looked up by name at load time. */
import type { TransformSpec } from './types.js';
import { pass } from './pass.js';
import { drop } from './drop.js';
import { pseudonymize } from './pseudonymize.js';

export type * from './types.js';

export const TRANSFORMS: Readonly<Record<string, TransformSpec>> = Object.freeze({ pass, drop, pseudonymize });
