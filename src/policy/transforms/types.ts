import type { SignalValue } from '../../record.js';

/** Per-record context a transform may use. */
export interface TransformContext {
  /** Keyed pseudonym for this record's OEM and epoch. */
  pseudonymize(value: string): string;
}

/** A compiled field transform; `undefined` means the field does not leave. */
export type FieldTransform = (value: SignalValue, ctx: TransformContext) => SignalValue | undefined;

export interface TransformSpec {
  /** Option keys this transform accepts besides `transform`; any other key is rejected at load. */
  readonly options: readonly string[];
  /** Checks options once at load and returns the hot-path function. Throws a string reason on bad options. */
  compile(options: Readonly<Record<string, unknown>>): FieldTransform;
}
