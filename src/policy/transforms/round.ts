import { positiveNumber, type ValueTransformSpec } from './types.js';

/**
 * Rounds a number to the nearest multiple of `step` (e.g. speed to 5 km/h, odometer to
 * 100 km). A value that is not a number is not sent: rounding cannot vouch for it.
 */
export const round: ValueTransformSpec = {
  kind: 'value',
  options: ['step'],
  compile(options) {
    const step = positiveNumber(options, 'step');
    // Decimal steps (0.1) would leave 0.30000000000000004 behind; fix to the step's digits.
    // Whole steps multiply exactly and need no fix (the common, fast case).
    const scale = Number.isInteger(step) ? 0 : 10 ** Math.min(12, Math.max(0, -Math.floor(Math.log10(step)) + 1));
    return {
      apply:
        scale === 0
          ? (value) => (typeof value === 'number' ? Math.round(value / step) * step : undefined)
          : (value) =>
              typeof value === 'number' ? Math.round(Math.round(value / step) * step * scale) / scale : undefined,
      describe: `rounded to step ${step}`,
      outcome: 'transformed',
    };
  },
};
