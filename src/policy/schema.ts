/**
 * The policy file format. `docs/policy.schema.json` is generated from this schema
 * (`shekara policy schema > docs/policy.schema.json`; a test fails when the two differ) so OEMs
 * and operators can validate files with any JSON Schema tool. The validator load.ts uses is
 * generated too: `npm run gen:validators` after an edit (a test fails until then).
 *
 * Transform options are checked by each transform at compile time (with file:line), not here:
 * a union per transform would turn one typo into a dozen unreadable `anyOf` errors.
 */
import { Type, type Static } from '@sinclair/typebox';

const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
/** ISO 8601 duration of days, hours, minutes, seconds: P30D, PT1H, PT30S. */
const Duration = Type.String({
  pattern: '^P(?!$)(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+S)?)?$',
  description: 'ISO 8601 duration, e.g. PT1M, PT1H, P30D',
});

/** A field rule: a transform name, or a mapping with `transform` and that transform's options. */
export const FieldRuleSchema = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Object({ transform: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
]);

export const TripEndpointsSchema = Type.Object(
  {
    /** No location within this distance of a trip's start or end leaves. */
    radiusMeters: Type.Optional(Type.Number({ minimum: 50, maximum: 20_000, default: 500 })),
    /** A silence longer than this ends a trip (the last point seen was its end). */
    gap: Type.Optional(Duration),
    /** Standing still (speed ≤ 1 km/h) this long ends a trip. */
    stopAfter: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

export const KAnonymitySchema = Type.Object(
  {
    /** Distinct vehicles that must have been seen in a cell in the window before it is released. */
    k: Type.Integer({ minimum: 2, maximum: 1000 }),
    window: Type.Optional(Duration),
    /** Below k: drop the location, or try coarser cells (up to maxCoarsen steps) first. */
    otherwise: Type.Optional(Type.Union([Type.Literal('drop'), Type.Literal('coarsen')])),
    maxCoarsen: Type.Optional(Type.Integer({ minimum: 1, maximum: 6 })),
  },
  { additionalProperties: false },
);

export const PurposeSchema = Type.Object(
  {
    id: Id,
    description: Type.String({ minLength: 1 }),
    legalBasis: Type.Optional(
      Type.Union([Type.Literal('consent'), Type.Literal('contract'), Type.Literal('legal-obligation')]),
    ),
    /** Default: true when legalBasis is consent. Without a grant the purpose sends nothing. */
    consentRequired: Type.Optional(Type.Boolean()),
    /** How long the OEM may keep what it receives (stated to the OEM and the regulator). */
    retention: Type.Optional(Duration),
    /**
     * The longest an owner's consent to this purpose may last, in days (default 365): a grant
     * runs until its `validUntil`, never beyond grant time + this. The owner is asked again after.
     */
    consentMaxDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3650,
        description: 'longest validity of a consent grant, in days (default 365)',
      }),
    ),
    /**
     * The OEM takes automated decisions about the vehicle or its owner from this data (scoring,
     * profiling). An owner's objection to automated processing stops it for that vehicle while
     * the objection is open, and for good when it is upheld.
     */
    automatedDecisions: Type.Optional(
      Type.Boolean({
        description:
          'the OEM makes automated decisions from this data; an open objection stops it for the vehicle (default false)',
      }),
    ),
    /** Down-sampling: at most one projection per vehicle per this interval. */
    minInterval: Type.Optional(Duration),
    /** Bucket the projection's observedAt time (floor) to this size. */
    timeBucket: Type.Optional(Duration),
    tripEndpoints: Type.Optional(TripEndpointsSchema),
    kAnonymity: Type.Optional(KAnonymitySchema),
    /** VSS path or wildcard (`*` one level, `**` any depth) → rule. Deny by default. */
    fields: Type.Record(Type.String(), FieldRuleSchema, { minProperties: 1 }),
  },
  { additionalProperties: false },
);

const Ring = Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 3 }), { minItems: 4 });
export const ZoneSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** GeoJSON (RFC 7946) Polygon or MultiPolygon; positions are [longitude, latitude]. */
    geometry: Type.Union([
      Type.Object(
        { type: Type.Literal('Polygon'), coordinates: Type.Array(Ring, { minItems: 1 }) },
        { additionalProperties: false },
      ),
      Type.Object(
        {
          type: Type.Literal('MultiPolygon'),
          coordinates: Type.Array(Type.Array(Ring, { minItems: 1 }), { minItems: 1 }),
        },
        { additionalProperties: false },
      ),
    ]),
  },
  { additionalProperties: false },
);

/** One parameter of a command type: its JSON type and the range the policy allows. */
export const CommandParamSchema = Type.Object(
  {
    type: Type.Union([
      Type.Literal('number'),
      Type.Literal('integer'),
      Type.Literal('string'),
      Type.Literal('boolean'),
    ]),
    /** A parameter is optional unless it says `required: true`. */
    required: Type.Optional(Type.Boolean()),
    minimum: Type.Optional(Type.Number()),
    maximum: Type.Optional(Type.Number()),
    /** Allowed values (strings or numbers). */
    enum: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]), { minItems: 1 })),
    maxLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  },
  { additionalProperties: false },
);

export const CommandTypeSchema = Type.Object(
  {
    type: Id,
    description: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Marks a type as restricting the car (needs the owner's approval). The built-in restricting
     * types (immobilize, speed-limit, disable-function, remote-shutdown) are restricting whatever
     * this says; `false` on one of them is an error.
     */
    restricting: Type.Optional(Type.Boolean()),
    /**
     * The purpose (one of `purposes`) this command serves. When that purpose needs the owner's
     * consent, so does the command: when it is asked for and again when it is sent.
     */
    purpose: Type.Optional(Id),
    /** At most this many commands of this type per vehicle in any sliding hour. */
    maxPerVehiclePerHour: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    /** Deny by default: a parameter not named here is refused. */
    params: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }), CommandParamSchema)),
  },
  { additionalProperties: false },
);

/** Downlink commands this OEM may send to its cars. Deny by default: a type not listed is refused. */
export const CommandsSchema = Type.Object(
  {
    /** The longest a command may wait for an offline car (default PT1H); the OEM asks for less with ttlSeconds. */
    maxTtl: Type.Optional(Duration),
    types: Type.Array(CommandTypeSchema),
  },
  { additionalProperties: false },
);

export const PolicyFileSchema = Type.Object(
  {
    oem: Id,
    version: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
    /** Places (clinics, shelters, places of worship…) inside which no location leaves, for every purpose. */
    sensitiveZones: Type.Optional(Type.Array(ZoneSchema)),
    purposes: Type.Array(PurposeSchema, { minItems: 1 }),
    commands: Type.Optional(CommandsSchema),
  },
  { additionalProperties: false, $id: 'https://shekara.kz/schemas/policy.schema.json', title: 'Shekara OEM policy' },
);

export type PolicyFile = Static<typeof PolicyFileSchema>;
export type PurposeDef = Static<typeof PurposeSchema>;
export type FieldRule = Static<typeof FieldRuleSchema>;
export type ZoneDef = Static<typeof ZoneSchema>;
export type CommandsDef = Static<typeof CommandsSchema>;
export type CommandParamDef = Static<typeof CommandParamSchema>;
