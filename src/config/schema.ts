/**
 * The one schema for Shekara's YAML config, composed here from one module per section
 * (./ingest.ts, ./store.ts, ./oems.ts, ./egress.ts, ./audit.ts, ./observability.ts,
 * ./catalog.ts, ./keys.ts); importers use this door. Validated once at start-up (see load.ts);
 * unknown keys are rejected, defaults filled in, the result frozen. Each module receives
 * only its own slice. The validator is generated code: after editing any section, run
 * `npm run gen:validators` (test/config/validators-generated.test.ts fails until then).
 */
import { Type, type Static } from '@sinclair/typebox';
import { AuditSchema, IncidentsSchema, ReportsSchema } from './audit.js';
import { CatalogSchema } from './catalog.js';
import { strict } from './common.js';
import { EgressSchema, KafkaQueueSchema, PseudonymSchema } from './egress.js';
import {
  Gbt32960Schema,
  HttpSchema,
  IngestSchema,
  LimitsSchema,
  MqttExternalSchema,
  MqttSchema,
  MqttTlsSchema,
} from './ingest.js';
import { KeysSchema } from './keys.js';
import { LogSchema, TelemetrySchema } from './observability.js';
import { OemSchema } from './oems.js';
import { PostgresStoreSchema, RetentionSchema, SqliteStoreSchema, StoreSchema } from './store.js';

export { AuditSchema, IncidentsSchema, KZ_FIXED_HOLIDAYS, ReportsSchema } from './audit.js';
export { CatalogSchema } from './catalog.js';
export { EgressQueueSchema, EgressSchema, KafkaQueueSchema, PseudonymSchema } from './egress.js';
export { Gbt32960Schema, HttpSchema, IngestSchema, LimitsSchema, MqttSchema } from './ingest.js';
export { KeysSchema } from './keys.js';
export { LogSchema, TelemetrySchema } from './observability.js';
export { OEM_API_RATE_LIMIT, OemSchema } from './oems.js';
export { PostgresStoreSchema, RetentionSchema, STORE_KINDS, SqliteStoreSchema, StoreSchema } from './store.js';

export const ConfigSchema = Type.Object(
  {
    /** Folder for the SQLite store (if `store.kind: sqlite`) and locally held keys. Relative to the config file. */
    dataDir: Type.String({ minLength: 1, default: './data' }),
    mqtt: MqttSchema,
    gbt32960: Gbt32960Schema,
    http: HttpSchema,
    limits: LimitsSchema,
    ingest: IngestSchema,
    store: StoreSchema,
    retention: RetentionSchema,
    pseudonymization: PseudonymSchema,
    egress: EgressSchema,
    oems: Type.Array(OemSchema, { default: [] }),
    audit: AuditSchema,
    keys: KeysSchema,
    reports: ReportsSchema,
    incidents: IncidentsSchema,
    log: LogSchema,
    telemetry: TelemetrySchema,
    catalog: CatalogSchema,
    /**
     * What this process does (`shekara start --role` wins): `all` ingests and delivers; `ingest`
     * takes cars' data and leaves deliveries to `egress` processes on the same store (PostgreSQL
     * outbox, or Kafka); `egress` delivers and answers the APIs, with no MQTT or HTTPS ingest.
     * On SQLite at most one process may deliver.
     */
    role: Type.Union([Type.Literal('all'), Type.Literal('ingest'), Type.Literal('egress')], { default: 'all' }),
    /** SIGTERM: stop accepting, drain what is in flight, close; forced exit after this long. */
    shutdownTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 15_000 }),
  },
  strict,
);

export type Config = Static<typeof ConfigSchema>;
export type MqttConfig = Static<typeof MqttSchema>;
export type Gbt32960Config = Static<typeof Gbt32960Schema>;
export type MqttTlsConfig = Static<typeof MqttTlsSchema>;
export type MqttExternalConfig = Static<typeof MqttExternalSchema>;
export type HttpConfig = Static<typeof HttpSchema>;
export type LimitsConfig = Static<typeof LimitsSchema>;
export type IngestConfig = Static<typeof IngestSchema>;
export type StoreConfig = Static<typeof StoreSchema>;
export type SqliteStoreConfig = Static<typeof SqliteStoreSchema>;
export type PostgresStoreConfig = Static<typeof PostgresStoreSchema>;
export type RetentionConfig = Static<typeof RetentionSchema>;
export type OemConfig = Static<typeof OemSchema>;
export type EgressConfig = Static<typeof EgressSchema>;
export type AuditConfig = Static<typeof AuditSchema>;
export type ReportsConfig = Static<typeof ReportsSchema>;
export type IncidentsConfig = Static<typeof IncidentsSchema>;
export type KafkaQueueConfig = Static<typeof KafkaQueueSchema>;
export type TelemetryConfig = Static<typeof TelemetrySchema>;
export type CatalogConfigSection = Static<typeof CatalogSchema>;
