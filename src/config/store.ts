/**
 * The config sections of the store (SQLite or PostgreSQL) and how long local data is kept (the door: ./schema.ts, which composes `ConfigSchema`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { strict } from './common.js';

/** The embedded default: one SQLite file, one instance. */
export const SqliteStoreSchema = Type.Object(
  {
    kind: Type.Literal('sqlite'),
    /** SQLite file; relative paths are under dataDir. */
    file: Type.String({ minLength: 1, default: 'shekara.db' }),
  },
  strict,
);

/** PostgreSQL, shared by any number of instances (docs/deployment.md "PostgreSQL"). */
export const PostgresStoreSchema = Type.Object(
  {
    kind: Type.Literal('postgres'),
    /** postgres://user[:password]@host:port/db[?sslmode=…]; env SHEKARA_STORE_URL overrides. The password is never logged. */
    url: Type.String({ pattern: '^postgres(ql)?://', minLength: 14 }),
    /** Every table lives in this schema, created if missing. */
    schema: Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$', default: 'public' }),
    /** Connections per instance. */
    poolSize: Type.Integer({ minimum: 1, maximum: 1_000, default: 10 }),
  },
  strict,
);

export const STORE_KINDS = ['sqlite', 'postgres'] as const;

/**
 * A union on `kind` (Ajv's discriminator: the defaults of the chosen branch are filled in).
 * `kind` may be left out of the file: load.ts fills in sqlite, or postgres when SHEKARA_STORE_URL is set.
 */
export const StoreSchema = Type.Unsafe<Static<typeof SqliteStoreSchema> | Static<typeof PostgresStoreSchema>>({
  type: 'object',
  required: ['kind'],
  discriminator: { propertyName: 'kind' },
  oneOf: [SqliteStoreSchema, PostgresStoreSchema],
  default: { kind: 'sqlite' },
});

/** How long each category of local personal data is kept. The egress log is exempt: it holds no personal data. */
export const RetentionSchema = Type.Object(
  {
    /** Records as received (raw payload and decoded signals) and quarantined payloads, by arrival time. */
    rawRecordsDays: Type.Integer({ minimum: 1, maximum: 36_500, default: 90 }),
    /** Route points (position history), by the point's own time. */
    routePointsDays: Type.Integer({ minimum: 1, maximum: 36_500, default: 90 }),
    /** Owner and driver data, by arrival time. */
    accountDataDays: Type.Integer({ minimum: 1, maximum: 36_500, default: 365 }),
    /** How often the sweep runs; the first runs shortly after start. */
    sweepIntervalMinutes: Type.Integer({ minimum: 1, maximum: 10_080, default: 60 }),
  },
  { ...strict, default: {} },
);
