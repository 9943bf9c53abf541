/**
 * Request and response schemas of the owner API's consent, report, objection and erasure
 * routes (TypeBox = JSON Schema). Fastify enforces them; openapi.ts publishes them. Bodies
 * refuse unknown fields by name; query strings refuse unknown parameters (guard.ts).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Objection } from '../views/objection.js';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Time = Type.String({ format: 'date-time' });
const OemId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const PurposeId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });

export const VinParams = Type.Object(
  {
    vin: Type.String({
      pattern: '^[A-HJ-NPR-Z0-9]{17}$',
      description: "one of the owner's vehicles (another vehicle is 404)",
    }),
  },
  strict,
);
export const PurposeParams = Type.Object({ vin: VinParams.properties.vin, purpose: PurposeId }, strict);

export const Consent = Type.Object(
  {
    id: Type.Integer(),
    purpose: Type.String(),
    grantedAt: Time,
    validUntil: Nullable(Time),
    revokedAt: Nullable(Time),
    endedBy: Nullable(Type.Union([Type.Literal('revoked'), Type.Literal('superseded')])),
    inForce: Type.Boolean(),
    source: Type.String(),
  },
  strict,
);
export type Consent = Static<typeof Consent>;

export const Purpose = Type.Object(
  {
    id: Type.String(),
    description: Type.String(),
    legalBasis: Nullable(Type.String()),
    consentRequired: Type.Boolean(),
    automatedDecisions: Type.Boolean(),
    retention: Nullable(Type.String({ description: 'how long the OEM may keep what it receives (ISO 8601 duration)' })),
    consentMaxDays: Type.Integer({ description: 'a grant lasts at most this many days' }),
    fields: Type.Record(Type.String(), Type.String(), {
      description: 'signal path or wildcard → how it leaves (transform and options); any other field never leaves',
    }),
    consent: Nullable(Consent),
  },
  { ...strict, description: 'consent is the grant in force, or null' },
);

export const ConsentsReply = Type.Object(
  {
    vin: Type.String(),
    oem: Type.String(),
    policyHash: Nullable(Type.String()),
    purposes: Type.Array(Purpose),
    history: Type.Array(Consent, { description: 'every grant of this vehicle, newest first' }),
  },
  strict,
);

export const GrantBody = Type.Object(
  {
    oem: Type.Optional(OemId),
    purpose: PurposeId,
    validUntil: Type.Optional(
      Type.String({
        format: 'date-time',
        description: "when the grant lapses (default and maximum: now + the purpose's consentMaxDays)",
      }),
    ),
  },
  strict,
);
export type GrantBody = Static<typeof GrantBody>;

export const GrantReply = Type.Object({ grant: Consent, leafIndex: Type.Integer() }, strict);
export const RevokeReply = Type.Object(
  {
    purpose: Type.String(),
    revokedAt: Time,
    revoked: Type.Integer({ description: 'grants that were in force and are now closed' }),
    blockedPending: Type.Integer({ description: 'queued deliveries for this purpose stopped before they left' }),
    leafIndex: Type.Integer(),
  },
  strict,
);

export const ReportQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'entries at or after (RFC 3339)' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'entries before (RFC 3339; default now)' })),
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'nextCursor of the previous page' })),
  },
  strict,
);
export type ReportQuery = Static<typeof ReportQuery>;

export const ReportEntry = Type.Object(
  {
    seq: Type.Integer(),
    at: Time,
    oem: Type.String(),
    destination: Type.String(),
    destinationCountry: Nullable(Type.String()),
    purpose: Type.String(),
    fieldsSent: Type.Array(Type.String()),
    outcome: Type.String({ description: 'delivered, failed, dead-lettered or blocked (nothing left)' }),
    recordId: Type.String(),
    deliveryId: Nullable(Type.String({ description: 'the id the OEM received for this delivery' })),
  },
  strict,
);
export const ReportTotal = Type.Object(
  {
    oem: Type.String(),
    purpose: Type.String(),
    delivered: Type.Integer({ description: 'records that left the country' }),
    bytes: Type.Integer({ description: 'bytes of the bodies delivered' }),
    failed: Type.Integer({ description: 'failed attempts (retried)' }),
    deadLettered: Type.Integer(),
    blocked: Type.Integer({ description: 'stopped before leaving (consent, objection, destination country)' }),
  },
  strict,
);
export const ReportReply = Type.Object(
  {
    vin: Type.String(),
    from: Nullable(Time),
    to: Time,
    totals: Type.Array(ReportTotal, { description: 'per OEM and purpose, over the whole period' }),
    entries: Type.Array(ReportEntry),
    nextCursor: Nullable(Type.String()),
  },
  strict,
);

export const ObjectionBody = Type.Object(
  {
    oem: OemId,
    purpose: PurposeId,
    reason: Type.String({
      minLength: 1,
      maxLength: 4_000,
      description: "the owner's words; kept in the country, only its SHA-256 is in the log",
    }),
  },
  strict,
);
export type ObjectionBody = Static<typeof ObjectionBody>;

/** An objection as answered: shared with the operator's API (src/api/views/objection.ts). */
export { Objection };
export const ObjectionReply = Type.Object(
  {
    objection: Objection,
    stopsProcessing: Type.Boolean({
      description:
        'the purpose is automated decision-making: it is stopped for this vehicle while the objection is open, and for good if upheld',
    }),
    leafIndex: Type.Integer(),
  },
  strict,
);
export const ObjectionsReply = Type.Object({ objections: Type.Array(Objection) }, strict);

export const ErasureReply = Type.Object(
  {
    erasedAt: Time,
    erased: Type.Object(
      { records: Type.Integer(), routePoints: Type.Integer(), accountData: Type.Integer(), quarantine: Type.Integer() },
      strict,
    ),
    leafIndex: Type.Integer(),
  },
  strict,
);
