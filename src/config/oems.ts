/**
 * The config sections of the OEMs data goes to (the door: ./schema.ts, which composes `ConfigSchema`).
 */
import { Type } from '@sinclair/typebox';
import { strict } from './common.js';
import { OEM_POSTS_IN_FLIGHT } from '../egress/slots.js';

/** An OEM's /oem/v1 rate limit unless its config entry sets one (API-registered OEMs have this one). */
export const OEM_API_RATE_LIMIT = { requestsPerSecond: 20, burst: 40 } as const;

export const OemSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'lower-case OEM id' }),
    /** Display name in the OEM registry (`shekara oem list`, /admin/v1/oems); the id when absent. */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** Where approved projections are POSTed. The only destination this OEM has. */
    endpoint: Type.String({ pattern: '^https?://', minLength: 8 }),
    /** Policy YAML; relative paths are resolved against the config file's folder. */
    policyFile: Type.String({ minLength: 1 }),
    /**
     * Countries (ISO 3166-1 alpha-2) the endpoint may resolve to. Deny by default: an empty
     * list blocks every delivery to a public address. Checked at send time (egress/destination.ts).
     */
    allowedCountries: Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), { default: [], uniqueItems: true }),
    /** Loopback and private-use addresses have no country; they need this explicit allowance (tests, demo). */
    allowPrivateNetworks: Type.Boolean({ default: false }),
    /**
     * With tracing on, send a W3C `traceparent` header with each delivery so the OEM can join
     * its own trace to ours. It reveals nothing personal (random ids and a sampled flag), but it
     * is metadata crossing the border, so it is off unless the operator opts in per OEM.
     */
    propagateTraceContext: Type.Boolean({ default: false }),
    /** File holding the HMAC key that signs each body (>= 32 bytes). Absent: generated into the local store. */
    signingKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * `push` (default): egress workers POST each approved projection to `endpoint`. `pull`: nothing
     * is pushed; the OEM fetches its projections from `GET /oem/v1/feed` (docs/oem-api.md), with
     * the same consent and country checks at the moment it pulls.
     */
    delivery: Type.Union([Type.Literal('push'), Type.Literal('pull')], { default: 'push' }),
    /**
     * Batched push (docs/oem-api.md#batched-push): up to `maxRecords` projections, at most
     * `maxBytes` of bodies, in one signed POST; the first waits up to `maxWaitMs` for company.
     * `maxRecords: 1` (default) keeps one POST per projection: the batch body is another format,
     * so an OEM opts in. The `delivery` key stays the push/pull switch, hence a key of its own.
     * `maxInFlight`: POSTs to this OEM (batches or single records) on the wire at once; more
     * wait for a slot (src/egress/slots.ts).
     */
    batch: Type.Object(
      {
        maxRecords: Type.Integer({ minimum: 1, maximum: 10_000, default: 1 }),
        maxBytes: Type.Integer({ minimum: 1_024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 }),
        maxWaitMs: Type.Integer({ minimum: 0, maximum: 10_000, default: 5 }),
        maxInFlight: Type.Integer({ minimum: 1, maximum: 1024, default: OEM_POSTS_IN_FLIGHT }),
      },
      { ...strict, default: {} },
    ),
    /** Token bucket over every /oem/v1 request of this OEM (all its keys together); over it: 429 + Retry-After. */
    apiRateLimit: Type.Object(
      {
        requestsPerSecond: Type.Number({
          exclusiveMinimum: 0,
          maximum: 10_000,
          default: OEM_API_RATE_LIMIT.requestsPerSecond,
        }),
        burst: Type.Integer({ minimum: 1, maximum: 100_000, default: OEM_API_RATE_LIMIT.burst }),
      },
      { ...strict, default: {} },
    ),
    /** Optional mTLS client certificate for an https endpoint. */
    mtls: Type.Optional(
      Type.Object(
        {
          certFile: Type.String({ minLength: 1 }),
          keyFile: Type.String({ minLength: 1 }),
          caFile: Type.Optional(Type.String({ minLength: 1 })),
        },
        strict,
      ),
    ),
  },
  strict,
);
