/**
 * Request and response schemas of the OEM forwarding API (TypeBox = JSON Schema): fastify
 * enforces them, openapi.ts publishes them. Bodies refuse unknown fields; query strings refuse
 * unknown parameters (guard.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Entry, FilterProps } from '../views/egress-entry.js';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) =>
  Type.Union([t, Type.Null()]);
const Time = Type.String({ format: 'date-time' });
const Cursor = Type.String({ pattern: '^[0-9]{1,15}$' });

export const PolicyReply = Type.Object(
  {
    oem: Type.String(),
    hash: Type.String({ description: '`sha256:` and the SHA-256 of the policy file: every delivery names it' }),
    version: Nullable(Type.String()),
    activatedAt: Type.Union([Time, Type.Null()], { description: 'when this version became active' }),
    purposes: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          description: Type.String(),
          legalBasis: Nullable(Type.String()),
          consentRequired: Type.Boolean(),
          retention: Nullable(Type.String()),
          minIntervalMs: Type.Integer(),
          timeBucketMs: Type.Integer(),
          fields: Type.Array(
            Type.Object(
              {
                selector: Type.String({ description: 'VSS path or wildcard' }),
                transform: Type.String(),
                options: Type.Object({}, { additionalProperties: true }),
              },
              strict,
            ),
          ),
        },
        strict,
      ),
    ),
    sensitiveZones: Type.Integer({
      description: 'how many sensitive zones suppress positions (their shapes stay with the operator)',
    }),
    commands: Type.Object(
      {
        maxTtlSeconds: Type.Integer(),
        types: Type.Array(
          Type.Object(
            {
              type: Type.String(),
              description: Nullable(Type.String()),
              restricting: Type.Boolean({ description: "needs the owner's approval for this OEM and vehicle" }),
              purpose: Nullable(
                Type.String({
                  description: 'the purpose it serves: when that purpose needs consent, so does the command',
                }),
              ),
              maxPerVehiclePerHour: Nullable(Type.Integer()),
              params: Type.Object({}, { additionalProperties: true }),
            },
            strict,
          ),
        ),
      },
      strict,
    ),
  },
  strict,
);

export const FeedQuery = Type.Object(
  {
    cursor: Type.Optional({
      ...Cursor,
      description: 'nextCursor of your previous pull: acknowledges every item up to it',
    }),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  },
  strict,
);
export type FeedQuery = Static<typeof FeedQuery>;

export const FeedReply = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          cursor: Type.String({ description: 'the feed position of this item' }),
          body: Type.Unknown({
            description:
              'exactly what a push would POST: {deliveryId, purpose, policyHash, vehicle (only when the purpose names the VIN), observedAt, signals}',
          }),
        },
        strict,
      ),
    ),
    nextCursor: Type.String({ description: 'send it as `cursor` on the next pull to acknowledge these items' }),
    more: Type.Boolean({ description: 'true when the page was full: pull again at once' }),
  },
  strict,
);

export const DeliveryParams = Type.Object(
  { deliveryId: Type.String({ minLength: 1, maxLength: 64, description: 'the deliveryId of a body you received' }) },
  strict,
);

/**
 * An egress-log entry as its OEM sees it: the gateway's record id stays in the country (it is
 * time-ordered and shared by every purpose), and the pseudonym is shown only where it crossed
 * (the purpose names the VIN).
 */
export const OemEntry = Type.Object(
  {
    ...Type.Omit(Entry, ['recordId', 'pseudonym', 'deliveryId']).properties,
    deliveryId: Nullable(Type.String({ description: 'the id of the delivery, as in its body' })),
    pseudonym: Nullable(Type.String({ description: 'only when the purpose names the VIN' })),
  },
  strict,
);
export type OemEntry = Static<typeof OemEntry>;

export const DeliveriesQuery = Type.Object(
  {
    from: FilterProps.from,
    to: FilterProps.to,
    outcome: FilterProps.outcome,
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
    cursor: Type.Optional({ ...Cursor, description: 'nextCursor of the previous page' }),
  },
  strict,
);
export type DeliveriesQuery = Static<typeof DeliveriesQuery>;

export const RotateBody = Type.Object(
  {
    overlapSeconds: Type.Integer({
      minimum: 0,
      maximum: 86_400,
      default: 3_600,
      description: 'how long the previous key keeps signing beside the new one (0: a hard switch)',
    }),
  },
  strict,
);

export const RotateReply = Type.Object(
  {
    oem: Type.String(),
    version: Type.Integer(),
    key: Type.String({ description: 'the new HMAC-SHA256 key, base64url; shown only now' }),
    createdAt: Time,
    previousKeySignsUntil: Time,
  },
  strict,
);

/**
 * One `type` list, not a union: fastify's validator coerces types, and in a union it tried
 * `number` first and turned `true` into `1`. With several types in one `type` keyword ajv
 * coerces only a value that matches none of them, so a parameter is stored exactly as sent.
 */
const ParamValue = Type.Unsafe<number | string | boolean>({
  type: ['number', 'string', 'boolean'],
  maxLength: 1024,
});

export const PseudonymParams = Type.Object(
  { pseudonym: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$', description: 'the vehicle as your feed names it' }) },
  strict,
);
export const CommandParams = Type.Object(
  { pseudonym: PseudonymParams.properties.pseudonym, id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) },
  strict,
);

export const CommandBody = Type.Object(
  {
    type: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'a command type of your command policy' }),
    params: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }), ParamValue, { maxProperties: 32 }),
    ),
    ttlSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 604_800,
        description: "how long the command may wait for an offline car (at most the policy's maxTtl)",
      }),
    ),
  },
  strict,
);
export type CommandBody = Static<typeof CommandBody>;

export const Command = Type.Object(
  {
    id: Type.String(),
    vehicle: Type.String({ description: 'the pseudonym the command was sent for' }),
    type: Type.String(),
    params: Type.Record(Type.String(), ParamValue),
    status: Type.Union(
      ['blocked', 'queued', 'sent', 'accepted', 'rejected', 'done', 'failed', 'expired'].map((s) => Type.Literal(s)),
    ),
    reason: Nullable(Type.String()),
    createdAt: Time,
    expiresAt: Time,
    sentAt: Type.Union([Time, Type.Null()]),
    acks: Type.Array(Type.Object({ status: Type.String(), detail: Nullable(Type.String()), at: Time }, strict)),
  },
  strict,
);

/** A 403 or 429: the blocked command is in `command` (absent when the guard refused the request itself). */
export const CommandRefusal = Type.Object(
  { code: Type.String(), message: Type.String(), command: Type.Optional(Command) },
  strict,
);
