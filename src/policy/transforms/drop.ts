import type { ValueTransformSpec } from './types.js';

/** Never sends the field; names it in a policy to say so on purpose. */
export const drop: ValueTransformSpec = {
  kind: 'value',
  options: [],
  compile: () => ({ apply: () => undefined, describe: 'dropped: policy says drop', outcome: 'dropped' }),
};
