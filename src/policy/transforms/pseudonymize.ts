import type { ValueTransformSpec } from './types.js';

/** Replaces the value with a keyed HMAC pseudonym (per OEM, per epoch). */
export const pseudonymize: ValueTransformSpec = {
  kind: 'value',
  options: [],
  compile: () => ({
    apply: (value, ctx) => ctx.pseudonymize(Array.isArray(value) ? value.join(',') : String(value)),
    describe: 'pseudonymized (keyed HMAC, per OEM and epoch)',
    outcome: 'transformed',
  }),
};
