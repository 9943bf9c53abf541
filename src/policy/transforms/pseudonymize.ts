import type { TransformSpec } from './types.js';

/** Replaces the value with a keyed HMAC pseudonym (per OEM, per epoch). */
export const pseudonymize: TransformSpec = {
  options: [],
  compile: () => (value, ctx) => ctx.pseudonymize(Array.isArray(value) ? value.join(',') : String(value)),
};
