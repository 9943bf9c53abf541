import type { PrivacyClass } from './classes.js';

/** What the catalog knows of one signal path. */
export interface SignalSpec {
  readonly path: string;
  /** VSS node type: sensor, actuator, attribute. */
  readonly type: string;
  /** VSS datatype: boolean, string, uint8 … double, or a list (`string[]`). */
  readonly datatype: string;
  readonly unit: string | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly allowed: readonly (string | number)[] | undefined;
  readonly pattern: RegExp | undefined;
  /** Longest list accepted, when not the catalog's default (check.ts MAX_LIST). */
  readonly maxItems?: number | undefined;
  readonly class: PrivacyClass;
  /** Where the entry comes from: `VSS v6.0`, `VSS v6.0 + Shekara bounds`, or `config`. */
  readonly origin: string;
}
