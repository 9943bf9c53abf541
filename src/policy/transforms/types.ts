import type { SignalValue } from '../../record.js';

/** Per-record context a transform may use. */
export interface TransformContext {
  /** Keyed pseudonym for this record's OEM and epoch. */
  pseudonymize(value: string): string;
  /** Uniform in [0, 1) from a cryptographic source: noise must not be predictable. */
  random(): number;
  /** Whether a VIN is registered on this gateway (the identifier detector looks for every car's VIN). */
  readonly isRegisteredVin?: (vin: string) => boolean;
}

/** A compiled field transform; `undefined` means the field does not leave. */
export type FieldTransform = (value: SignalValue, ctx: TransformContext) => SignalValue | undefined;

/** A compiled value transform and what it does, said once at load for every decision. */
export interface CompiledValueTransform {
  readonly apply: FieldTransform;
  /** How the decision names it: `passed`, `rounded to step 5`, `pseudonymized`… */
  readonly describe: string;
  readonly outcome: 'passed' | 'transformed' | 'dropped';
}

export interface ValueTransformSpec {
  readonly kind: 'value';
  /** Option keys this transform accepts besides `transform`; any other key is rejected at load. */
  readonly options: readonly string[];
  /** Checks options once at load and returns the hot-path function. Throws a reason on bad options. */
  compile(options: Readonly<Record<string, unknown>>): CompiledValueTransform;
}

/**
 * A transform of the position as a whole (latitude and longitude together), named on the
 * branch `Vehicle.CurrentLocation`. `level` is a coarsening step for k-anonymity: 0 is the
 * policy's own setting, each step one size coarser.
 */
export interface CompiledLocationTransform {
  /** Signal paths it may emit. */
  readonly outputs: readonly string[];
  apply(lat: number, lon: number, ctx: TransformContext, level: number, out: Record<string, SignalValue>): void;
  describe(level: number): string;
  /** Present when the transform emits cells: the cell key at a coarsening level (k-anonymity counts on it). */
  readonly cellKey?: (lat: number, lon: number, level: number) => string;
  /** With cellKey: the centre of that cell (checked against trip endpoints before release). */
  readonly centre?: (lat: number, lon: number, level: number) => { readonly lat: number; readonly lon: number };
  /** With cellKey: the outline of that cell, [lat, lon] vertices (checked against sensitive zones before release). */
  readonly cellOutline?: (lat: number, lon: number, level: number) => readonly (readonly [number, number])[];
}

export interface LocationTransformSpec {
  readonly kind: 'location';
  readonly options: readonly string[];
  compile(options: Readonly<Record<string, unknown>>): CompiledLocationTransform;
}

export type TransformSpec = ValueTransformSpec | LocationTransformSpec;

/** Option helpers: each throws a reason the loader turns into `file:line path: reason`. */
export function positiveNumber(options: Readonly<Record<string, unknown>>, key: string, dflt?: number): number {
  const v = options[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new Error(`${key} must be a number greater than 0, got ${JSON.stringify(v)}`);
  return v;
}

export function oneOf<T extends string>(
  options: Readonly<Record<string, unknown>>,
  key: string,
  allowed: readonly T[],
  dflt: T,
): T {
  const v = options[key] ?? dflt;
  if (!allowed.includes(v as T))
    throw new Error(`${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}
