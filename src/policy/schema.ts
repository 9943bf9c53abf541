/**
 * The policy file format. `docs/policy.schema.json` is generated from this schema
 * (`npm run policy-schema`) so OEMs and operators can validate files with any tool.
 */
import { Type, type Static } from '@sinclair/typebox';

/** A field rule: a transform name, or a mapping with `transform` and that transform's options. */
export const FieldRuleSchema = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Object({ transform: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
]);

export const PurposeSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    description: Type.String({ minLength: 1 }),
    /** VSS path → rule. Deny by default: a path not named here never leaves. */
    fields: Type.Record(Type.String(), FieldRuleSchema, { minProperties: 1 }),
  },
  { additionalProperties: false },
);

export const PolicyFileSchema = Type.Object(
  {
    oem: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    version: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
    purposes: Type.Array(PurposeSchema, { minItems: 1 }),
  },
  { additionalProperties: false, $id: 'https://shekara.kz/schemas/policy.schema.json', title: 'Shekara OEM policy' },
);

export type PolicyFile = Static<typeof PolicyFileSchema>;
export type FieldRule = Static<typeof FieldRuleSchema>;
