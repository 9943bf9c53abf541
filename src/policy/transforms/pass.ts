import type { TransformSpec } from './types.js';

/** Sends the value as it is. */
export const pass: TransformSpec = { options: [], compile: () => (value) => value };
