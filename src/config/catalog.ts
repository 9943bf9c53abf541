/**
 * The config sections of the signal catalog (the door: ./schema.ts, which composes `ConfigSchema`).
 */
import { Type } from '@sinclair/typebox';
import { strict } from './common.js';

/** Privacy classes (src/catalog/classes.ts, docs/policy.md). */
const PrivacyClassSchema = Type.Union([
  Type.Literal('technical'),
  Type.Literal('location'),
  Type.Literal('identifier'),
  Type.Literal('personal'),
  Type.Literal('free-text'),
  Type.Literal('sensitive'),
]);

/**
 * The signal catalog (src/catalog/): COVESA VSS plus the operator's private branches (an OEM's
 * extensions). A signal outside the catalog is kept in the country and never egressed.
 */
export const CatalogSchema = Type.Object(
  {
    /** Private signals: path, VSS datatype, privacy class, and optionally unit, min, max, allowed, pattern. */
    extensions: Type.Array(
      Type.Object(
        {
          path: Type.String({ pattern: '^Vehicle(\\.[A-Za-z][A-Za-z0-9_]*)+$' }),
          datatype: Type.String({ minLength: 1 }),
          class: PrivacyClassSchema,
          unit: Type.Optional(Type.String({ minLength: 1 })),
          min: Type.Optional(Type.Number()),
          max: Type.Optional(Type.Number()),
          allowed: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]), { minItems: 1 })),
          pattern: Type.Optional(Type.String({ minLength: 1 })),
        },
        strict,
      ),
      { default: [] },
    ),
    /** Branch or signal path → privacy class, overriding Shekara's defaults (coordinates stay location). */
    classes: Type.Record(Type.String(), PrivacyClassSchema, { default: {} }),
  },
  { ...strict, default: {} },
);
