/**
 * An egress-log entry as the HTTP APIs show it: the schema (TypeBox = JSON Schema), the
 * mapping from the stored row, and the query filters over the log. The regulator API answers it whole; the OEM API leaves out what
 * the OEM must not see (src/api/oem/schemas.ts OemEntry).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { EgressEntry } from '../../store/index.js';
import { iso } from '../../time.js';

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) =>
  Type.Union([t, Type.Null()]);
const strict = { additionalProperties: false } as const;

const VIN = Type.String({
  pattern: '^[A-HJ-NPR-Z0-9]{17}$',
  description:
    'resolved server-side to the pseudonyms its records crossed under; the re-identification is itself logged as a leaf',
});
const Outcome = Type.Union(['delivered', 'failed', 'dead-lettered', 'blocked'].map((o) => Type.Literal(o)));

/**
 * Filters over the egress log, as query parameters: the regulator's search, export and summary
 * take them all, the OEM's deliveries a few (src/api/oem/schemas.ts).
 */
export const FilterProps = {
  oem: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })),
  vin: Type.Optional(VIN),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'entries at or after (RFC 3339)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'entries before (RFC 3339)' })),
  field: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'a VSS path among the fields sent' })),
  country: Type.Optional(
    Type.String({ pattern: '^[A-Z]{2}$', description: 'destination country, ISO 3166-1 alpha-2' }),
  ),
  outcome: Type.Optional(Outcome),
  policyHash: Type.Optional(Type.String({ pattern: '^sha256:[0-9a-f]{64}$' })),
  recordId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  deliveryId: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: 'the id an OEM received (body deliveryId)' }),
  ),
};

export const Entry = Type.Object(
  {
    seq: Type.Integer(),
    leafIndex: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    oem: Type.String(),
    destination: Type.String(),
    destinationIp: Nullable(Type.String()),
    destinationCountry: Nullable(Type.String()),
    recordId: Type.String(),
    deliveryId: Nullable(
      Type.String({
        description:
          'the id the OEM received in the body and Idempotency-Key (null: logged before delivery ids); not part of the leaf',
      }),
    ),
    pseudonym: Type.String(),
    purpose: Type.String(),
    policyHash: Type.String(),
    fieldsSent: Type.Array(Type.String()),
    fieldsDropped: Type.Array(Type.String()),
    payloadSha256: Nullable(Type.String()),
    payloadBytes: Nullable(Type.Integer()),
    outcome: Type.String(),
    attempt: Type.Integer(),
    httpStatus: Nullable(Type.Integer()),
    error: Nullable(Type.String()),
    traceId: Nullable(
      Type.String({
        pattern: '^[0-9a-f]{32}$',
        description: 'OpenTelemetry trace of this attempt (null: not traced); not part of the leaf',
      }),
    ),
  },
  strict,
);
export type Entry = Static<typeof Entry>;

export function toApiEntry(e: EgressEntry): Entry {
  return {
    seq: e.seq,
    leafIndex: e.leafIndex,
    at: iso(e.at),
    oem: e.oem,
    destination: e.destination,
    destinationIp: e.destinationIp,
    destinationCountry: e.destinationCountry,
    recordId: e.recordId,
    deliveryId: e.deliveryId ?? null,
    pseudonym: e.pseudonym,
    purpose: e.purpose,
    policyHash: e.policyHash,
    fieldsSent: [...e.fieldsSent],
    fieldsDropped: [...e.fieldsDropped],
    payloadSha256: e.payloadSha256,
    payloadBytes: e.payloadBytes,
    outcome: e.outcome,
    attempt: e.attempt,
    httpStatus: e.httpStatus,
    error: e.error,
    traceId: e.traceId,
  };
}
