import { parseDuration } from '../duration.js';
import type { ValueTransformSpec } from './types.js';

/**
 * Floors a timestamp to a bucket (`size: PT1H`). Accepts ms since 1970 or an ISO 8601 string
 * and answers in the same form; anything else is not sent.
 */
export const bucket: ValueTransformSpec = {
  kind: 'value',
  options: ['size'],
  compile(options) {
    if (typeof options.size !== 'string') throw new Error('size must be an ISO 8601 duration such as PT1M or PT1H');
    const ms = parseDuration(options.size);
    return {
      apply(value) {
        if (typeof value === 'number') return Number.isFinite(value) ? Math.floor(value / ms) * ms : undefined;
        if (typeof value !== 'string') return undefined;
        const t = Date.parse(value);
        return Number.isFinite(t) ? new Date(Math.floor(t / ms) * ms).toISOString() : undefined;
      },
      describe: `bucketed to ${options.size}`,
      outcome: 'transformed',
    };
  },
};
