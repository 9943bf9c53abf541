/**
 * Request and response schemas of the operator admin API (TypeBox = JSON Schema). Fastify
 * enforces them (unknown body fields are refused by name); openapi.ts publishes them.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Time = Type.String({ format: 'date-time' });

export const OemId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'lower-case OEM id' });
export const Vin = Type.String({ pattern: '^[A-HJ-NPR-Z0-9]{17}$', description: '17-character VIN (ISO 3779)' });
export const PolicyHash = Type.String({
  pattern: '^sha256:[0-9a-f]{64}$',
  description: 'a policy version: sha256 of its exact text',
});
const Id16 = Type.String({ pattern: '^[0-9a-f]{16}$' });

export const OemParams = Type.Object({ oem: OemId }, strict);
export const PolicyParams = Type.Object({ oem: OemId, hash: PolicyHash }, strict);
export const VinParams = Type.Object({ vin: Vin }, strict);
export const KeyParams = Type.Object({ id: Id16 }, strict);
export const OwnerParams = Type.Object({ id: Id16 }, strict);

/** For action routes: no fields, but a body is refused if it names one. */
export const NoBody = Type.Object({}, strict);

// ---- OEMs

const Mtls = Type.Object(
  {
    certFile: Type.String({ minLength: 1, description: 'absolute path on the gateway host' }),
    keyFile: Type.String({ minLength: 1, description: 'absolute path on the gateway host' }),
    caFile: Type.Optional(Type.String({ minLength: 1, description: 'absolute path on the gateway host' })),
  },
  strict,
);
const Countries = Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), {
  uniqueItems: true,
  maxItems: 250,
  description: 'ISO 3166-1 alpha-2 countries the endpoint may resolve to; empty blocks every public address',
});
const Endpoint = Type.String({
  pattern: '^https?://',
  minLength: 8,
  maxLength: 2048,
  description: 'the one URL approved projections are POSTed to',
});
const Name = Type.String({ minLength: 1, maxLength: 200 });

export const OemCreateBody = Type.Object(
  {
    id: OemId,
    name: Type.Optional(Name),
    endpoint: Endpoint,
    allowedCountries: Type.Optional(Countries),
    allowPrivateNetworks: Type.Optional(
      Type.Boolean({ description: 'loopback and private-use addresses have no country; they need this' }),
    ),
    signingKey: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{43,}$',
        description:
          'import a body-signing key: base64url of at least 32 bytes. Absent: one is generated and returned once',
      }),
    ),
    mtls: Type.Optional(Nullable(Mtls)),
  },
  strict,
);
export type OemCreateBody = Static<typeof OemCreateBody>;

export const OemPatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    endpoint: Type.Optional(Endpoint),
    allowedCountries: Type.Optional(Countries),
    allowPrivateNetworks: Type.Optional(Type.Boolean()),
    mtls: Type.Optional(Nullable(Mtls)),
  },
  { ...strict, minProperties: 1 },
);
export type OemPatchBody = Static<typeof OemPatchBody>;

export const Oem = Type.Object({
  id: Type.String(),
  name: Type.String(),
  endpoint: Type.String(),
  allowedCountries: Type.Array(Type.String()),
  allowPrivateNetworks: Type.Boolean(),
  mtls: Nullable(Mtls),
  signingKey: Type.Union([Type.Literal('file'), Type.Literal('local-secret')], {
    description: 'where the body-signing key is kept; never the key',
  }),
  source: Type.Union([Type.Literal('config'), Type.Literal('api')], {
    description: 'config: read-only here, change the config file',
  }),
  enabled: Type.Boolean({ description: 'a disabled OEM is sent nothing; its pending deliveries wait' }),
  disabledAt: Nullable(Time),
  problem: Nullable(
    Type.String({ description: 'why the gateway holds this OEM disabled although the registry enables it' }),
  ),
  activePolicy: Nullable(Type.Object({ hash: Type.String(), activatedAt: Time })),
  createdAt: Nullable(Time),
  updatedAt: Nullable(Time),
});
export const OemList = Type.Object({ oems: Type.Array(Oem) });
export const OemCreated = Type.Object({
  oem: Oem,
  signingKey: Type.Optional(Type.String({ description: 'the generated body-signing key, base64url: shown this once' })),
});

// ---- policies

export const PolicyUploadBody = Type.Object(
  {
    text: Type.String({
      minLength: 1,
      maxLength: 1_048_576,
      description: 'the policy YAML (docs/policy.md), exactly as it is to be hashed',
    }),
    activate: Type.Optional(Type.Boolean({ description: 'activate it at once (default false: stored only)' })),
  },
  strict,
);
export type PolicyUploadBody = Static<typeof PolicyUploadBody>;

const DiffLine = Type.Object({
  effect: Type.Union([Type.Literal('opens'), Type.Literal('closes'), Type.Literal('changes')]),
  purpose: Type.String(),
  what: Type.String(),
});
export const PolicyDiff = Type.Object({
  from: Nullable(Type.String({ description: 'the active version, null if none' })),
  to: Type.String(),
  lines: Type.Array(DiffLine),
});
export const Activation = Type.Object({
  oem: Type.String(),
  from: Nullable(Type.String()),
  to: Type.String(),
  changed: Type.Boolean({ description: 'false: it was already the active version' }),
  droppedHeld: Type.Integer({
    description: 'projections the old version held back (trip endpoints), dropped, never sent',
  }),
});
export const PolicyUploaded = Type.Object({
  oem: Type.String(),
  hash: Type.String(),
  created: Type.Boolean({ description: 'false: this exact text was uploaded before' }),
  warnings: Type.Array(Type.String()),
  diff: PolicyDiff,
  activation: Nullable(Activation),
});
export const PolicyHistory = Type.Object({
  oem: Type.String(),
  active: Nullable(Type.Object({ hash: Type.String(), activatedAt: Time })),
  versions: Type.Array(
    Type.Object({ hash: Type.String(), uploadedAt: Time, source: Type.String(), active: Type.Boolean() }),
  ),
  activations: Type.Array(Type.Object({ hash: Type.String(), activatedAt: Time, source: Type.String() }), {
    description: 'newest first',
  }),
});
export const PolicyVersion = Type.Object({
  oem: Type.String(),
  hash: Type.String(),
  text: Type.String(),
  uploadedAt: Time,
  source: Type.String(),
  active: Type.Boolean(),
});

// ---- vehicles

const Secret = Type.String({
  minLength: 24,
  maxLength: 256,
  description: 'use this secret instead of a generated one',
});
export const VehicleCreateBody = Type.Object({ vin: Vin, oem: OemId, secret: Type.Optional(Secret) }, strict);
export type VehicleCreateBody = Static<typeof VehicleCreateBody>;
export const RotateBody = Type.Object({ secret: Type.Optional(Secret) }, strict);
export type RotateBody = Static<typeof RotateBody>;
export const VehicleQuery = Type.Object({ oem: Type.Optional(OemId) }, strict);

export const Vehicle = Type.Object({
  vin: Type.String(),
  oem: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
  createdAt: Time,
  secretSetAt: Time,
  revokedAt: Nullable(Time),
});
export const VehicleList = Type.Object({ vehicles: Type.Array(Vehicle) });
export const VehicleSecret = Type.Object({
  vehicle: Vehicle,
  secret: Type.String({ description: 'the device secret: shown this once, only its salted hash is stored' }),
  disconnected: Type.Integer({ description: 'live MQTT connections closed' }),
});
export const VehicleRevoked = Type.Object({
  vehicle: Vehicle,
  changed: Type.Boolean({ description: 'false: already revoked' }),
  disconnected: Type.Integer(),
});

export const IccidPinCleared = Type.Object({
  vin: Vin,
  cleared: Type.Boolean({
    description: 'false: nothing was pinned (the terminal never logged in, or the pin was already cleared)',
  }),
});

// ---- API keys

export const ApiKeyCreateBody = Type.Object(
  {
    role: Type.Union(['regulator', 'operator', 'oem', 'owner-app'].map((r) => Type.Literal(r))),
    label: Type.Optional(Type.String({ maxLength: 200, description: 'who holds it' })),
    oem: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 63,
        description: 'with role oem (required then): the registry OEM the key is bound to',
      }),
    ),
  },
  strict,
);
export type ApiKeyCreateBody = Static<typeof ApiKeyCreateBody>;
export const ApiKey = Type.Object({
  id: Type.String(),
  role: Type.String(),
  scope: Nullable(Type.String()),
  label: Type.String(),
  createdAt: Time,
  revokedAt: Nullable(Time),
});
export const ApiKeyCreated = Type.Object({
  ...ApiKey.properties,
  key: Type.String({
    description: 'the key: shown this once, only its hash is stored. Send it as Authorization: Bearer <key>',
  }),
});
export const ApiKeyList = Type.Object({ keys: Type.Array(ApiKey) });

// ---- owners

export const OwnerCreateBody = Type.Object(
  {
    ownerRef: Type.String({
      minLength: 1,
      maxLength: 200,
      description: "the operator's own reference for the person (customer number…); never shown to OEMs",
    }),
    vins: Type.Array(Vin, { minItems: 1, maxItems: 100, uniqueItems: true }),
  },
  strict,
);
export type OwnerCreateBody = Static<typeof OwnerCreateBody>;
export const Owner = Type.Object({
  id: Type.String(),
  ownerRef: Type.String(),
  vins: Type.Array(Type.String()),
  createdAt: Time,
  revokedAt: Nullable(Time),
});
export const OwnerCreated = Type.Object({
  ...Owner.properties,
  token: Type.String({ description: 'the owner token for the shekara-owner-token header: shown this once' }),
});
export const OwnerList = Type.Object({ owners: Type.Array(Owner) });
export const OwnerRevoked = Type.Object({ id: Type.String(), revoked: Type.Boolean() });
