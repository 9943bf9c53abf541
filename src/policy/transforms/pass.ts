import type { ValueTransformSpec } from './types.js';

/** Sends the value as it is. */
export const pass: ValueTransformSpec = {
  kind: 'value',
  options: [],
  compile: () => ({ apply: (value) => value, describe: 'passed', outcome: 'passed' }),
};
