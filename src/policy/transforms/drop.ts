import type { TransformSpec } from './types.js';

/** Never sends the field; names it in a policy to say so on purpose. */
export const drop: TransformSpec = { options: [], compile: () => () => undefined };
