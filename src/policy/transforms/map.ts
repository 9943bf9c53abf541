import type { SignalValue } from '../../record.js';
import type { ValueTransformSpec } from './types.js';

/**
 * Maps an enumeration to other values (e.g. detailed gear states to `drive`/`park`).
 * A value not in the table is dropped unless `otherwise` gives one: an unforeseen value is
 * not sent as it is by accident.
 */
export const map: ValueTransformSpec = {
  kind: 'value',
  options: ['values', 'otherwise'],
  compile(options) {
    const values = options.values;
    if (typeof values !== 'object' || values === null || Array.isArray(values) || Object.keys(values).length === 0) {
      throw new Error('values must be a mapping of input value to output value');
    }
    const table = new Map<string, SignalValue>();
    for (const [k, v] of Object.entries(values)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
        throw new Error(`values.${k} must be a string, number or boolean`);
      table.set(k, v);
    }
    const otherwise = options.otherwise;
    if (
      otherwise !== undefined &&
      typeof otherwise !== 'string' &&
      typeof otherwise !== 'number' &&
      typeof otherwise !== 'boolean'
    ) {
      throw new Error('otherwise must be a string, number or boolean');
    }
    return {
      apply: (value) => table.get(String(value)) ?? (otherwise as SignalValue | undefined),
      describe: `mapped (${table.size} values${otherwise === undefined ? ', others dropped' : ''})`,
      outcome: 'transformed',
    };
  },
};
