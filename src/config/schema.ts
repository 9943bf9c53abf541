/**
 * The one schema for Shekara's YAML config. Validated once at start-up (see load.ts);
 * unknown keys are rejected, defaults filled in, the result frozen. Each module receives
 * only its own slice.
 */
import { Type, type Static } from '@sinclair/typebox';

const Port = Type.Integer({ minimum: 0, maximum: 65535, description: '0 picks a free port (tests)' });
const Host = Type.String({ minLength: 1, default: '0.0.0.0' });
const strict = { additionalProperties: false } as const;
/** An OEM's /oem/v1 rate limit unless its config entry sets one (API-registered OEMs have this one). */
export const OEM_API_RATE_LIMIT = { requestsPerSecond: 20, burst: 40 } as const;

const TlsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    certFile: Type.Optional(Type.String({ minLength: 1 })),
    keyFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { ...strict, default: {} },
);

/** MQTT over TLS. With `clientCaFile`, a car may authenticate by client certificate (mTLS). */
const MqttTlsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    host: Host,
    port: { ...Port, default: 8883 },
    certFile: Type.Optional(Type.String({ minLength: 1 })),
    keyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** CA that issues vehicle certificates; the certificate's CN must be the car's VIN. */
    clientCaFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Revocation list (PEM) for vehicle certificates; re-read when the file changes, no restart. */
    crlFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { ...strict, default: {} },
);

/**
 * External-broker mode: instead of the embedded broker, attach to an existing clustered broker
 * (EMQX, Mosquitto) with MQTT 5 shared subscriptions, so several instances split the load.
 * The broker then MUST enforce per-device auth, topic ACL and limits (docs/external-broker.md).
 */
const MqttExternalSchema = Type.Object(
  {
    url: Type.String({ pattern: '^mqtts?://', default: 'mqtt://127.0.0.1:1883' }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String({ minLength: 1 })),
    /** Shared-subscription group: every instance with the same group shares the telemetry. */
    group: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'shekara' }),
    /** Connections per instance; each acknowledges in order, so more connections mean more records per commit. */
    connections: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
    /** Client-id prefix; each connection appends its number. Must be unique per instance. */
    clientIdPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]{1,40}$', default: 'shekara' }),
    /**
     * How long the broker keeps each connection's session (and the telemetry queued for it)
     * while no instance of this prefix is connected (MQTT 5 Session Expiry Interval, §3.1.2.11.2).
     * The longest Shekara outage that loses nothing; the broker's own limits may be lower.
     */
    sessionExpirySeconds: Type.Integer({ minimum: 60, maximum: 4_294_967_294, default: 604_800 }),
    /**
     * Downlink commands: the broker does not tell Shekara who is connected, so a car counts as
     * online while telemetry or a command acknowledgement from it arrived within this time; its
     * waiting commands are then checked again and published (docs/external-broker.md).
     */
    presenceSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 60 }),
    /**
     * Keeps the broker's device credentials and ACL in line with Shekara's vehicle registry.
     * `mosquitto-dynsec`: Mosquitto 2's dynamic security plugin, driven over its control topic
     * with this admin account (deploy/brokers/mosquitto/). `emqx-http`: EMQX 5 asks Shekara
     * (HTTP authentication and authorization, deploy/brokers/emqx/); `password` is the bearer
     * token EMQX presents. `none`: the operator keeps them.
     */
    credentialSync: Type.Object(
      {
        kind: Type.Union([Type.Literal('none'), Type.Literal('mosquitto-dynsec'), Type.Literal('emqx-http')], {
          default: 'none',
        }),
        username: Type.Optional(Type.String({ minLength: 1 })),
        password: Type.Optional(Type.String({ minLength: 1 })),
        /** How often the broker is brought in line with the registry (changes made by the CLI, a broker restored from backup). */
        reconcileSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 30 }),
      },
      { ...strict, default: {} },
    ),
  },
  { ...strict, default: {} },
);

export const MqttSchema = Type.Object(
  {
    /** `embedded`: Shekara is the broker. `external`: Shekara subscribes to another broker. */
    mode: Type.Union([Type.Literal('embedded'), Type.Literal('external')], { default: 'embedded' }),
    host: Host,
    port: { ...Port, default: 1883 },
    tls: MqttTlsSchema,
    external: MqttExternalSchema,
  },
  { ...strict, default: {} },
);

/**
 * The GB/T 32960.3 listener, a third ingest channel (docs/gbt32960.md). Off by default, and
 * deny by default: a car is accepted only when its login VIN is a registered vehicle AND it is
 * bound to that VIN — by a client certificate whose CN is the VIN (TLS), or, on plain TCP, by
 * arriving from a network the operator lists in `allowFrom` (a private APN or VPN).
 */
export const Gbt32960Schema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    /** TLS with a vehicle client certificate (CN = VIN) required (`clientCaFile`): the recommended binding. */
    tls: Type.Object({ ...MqttTlsSchema.properties, port: { ...Port, default: 32961 } }, { ...strict, default: {} }),
    /**
     * Plain TCP, as most terminals ship. The protocol carries no secret, so anyone who knows a
     * VIN could log in as it: only sources in `allowFrom` (addresses or CIDR blocks) connect.
     */
    tcp: Type.Object(
      {
        enabled: Type.Boolean({ default: false }),
        host: Host,
        port: { ...Port, default: 32960 },
        allowFrom: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
      },
      { ...strict, default: {} },
    ),
    /**
     * Checks on every login beyond the VIN, both on by default (docs/gbt32960.md "Identity
     * binding"): `pinIccid` refuses a login whose SIM card (ICCID) is not the one the VIN first
     * logged in with; `checkLoginSerial` refuses a login serial number that does not count up
     * within its day (§7.1), i.e. a recorded login frame sent again.
     */
    identity: Type.Object(
      {
        pinIccid: Type.Boolean({ default: true }),
        checkLoginSerial: Type.Boolean({ default: true }),
      },
      { ...strict, default: {} },
    ),
    /** A socket whose vehicle login has not been accepted within this time is closed. */
    loginTimeoutMs: Type.Integer({ minimum: 100, maximum: 300_000, default: 10_000 }),
    /** A logged-in car that sends nothing (not even a heartbeat) for this long is disconnected. */
    idleTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
    /** Sockets open at once on the GB/T 32960 listeners; above it new ones are closed. */
    maxConnections: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20_000 }),
    /** Report frames a car may have unanswered; above it reading pauses until answers leave. */
    maxInflight: Type.Integer({ minimum: 1, maximum: 10_000, default: 64 }),
  },
  { ...strict, default: {} },
);

export const HttpSchema = Type.Object(
  { host: Host, port: { ...Port, default: 8080 }, tls: TlsSchema },
  { ...strict, default: {} },
);

export const LimitsSchema = Type.Object(
  {
    /** Largest MQTT packet or HTTPS body accepted; checked on the declared length. */
    maxPacketBytes: Type.Integer({ minimum: 64, maximum: 268_435_455, default: 65_536 }),
    /** A socket that has not sent CONNECT within this time is closed. */
    connectTimeoutMs: Type.Integer({ minimum: 100, maximum: 300_000, default: 10_000 }),
    keepaliveMinSeconds: Type.Integer({ minimum: 1, maximum: 65_535, default: 5 }),
    keepaliveMaxSeconds: Type.Integer({ minimum: 1, maximum: 65_535, default: 1_200 }),
    maxTopicLength: Type.Integer({ minimum: 8, maximum: 65_535, default: 128 }),
    maxTopicLevels: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),
    /** Sustained messages per second per vehicle, and the burst above it. */
    messagesPerSecond: Type.Number({ exclusiveMinimum: 0, default: 20 }),
    messageBurst: Type.Integer({ minimum: 1, default: 40 }),
    /** MQTT sockets open at once, authenticated or not; above it a CONNECT gets "server busy". */
    maxConnections: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20_000 }),
    /** Largest CONNECT packet: read before the car is known, so it is small whatever maxPacketBytes says. */
    maxConnectBytes: Type.Integer({ minimum: 64, maximum: 65_536, default: 4_096 }),
    /** New MQTT connections per source address per second (sustained), and the burst above it. */
    connectionsPerAddressPerSecond: Type.Number({ exclusiveMinimum: 0, default: 100 }),
    connectionBurstPerAddress: Type.Integer({ minimum: 1, default: 2_000 }),
    /** CONNECTs per vehicle per minute; more get "quota exceeded". */
    connectsPerVehiclePerMinute: Type.Integer({ minimum: 1, default: 60 }),
    /** QoS 1 and 2 PUBLISHes a car may have unacknowledged (MQTT 5 Receive Maximum, advertised). */
    receiveMaximum: Type.Integer({ minimum: 1, maximum: 65_535, default: 100 }),
    /** MQTT 5 topic aliases a car may set on one connection (advertised Topic Alias Maximum). */
    topicAliasMaximum: Type.Integer({ minimum: 0, maximum: 65_535, default: 4 }),
    /** Longest a persistent session outlives its connection (3.1.1 clean session 0; MQTT 5 Session Expiry Interval is capped to it). */
    sessionExpiryMaxSeconds: Type.Integer({ minimum: 0, maximum: 4_294_967_295, default: 604_800 }),
  },
  { ...strict, default: {} },
);

export const IngestSchema = Type.Object(
  {
    /** Records grouped into one durable commit at most. */
    commitMaxBatch: Type.Integer({ minimum: 1, maximum: 10_000, default: 256 }),
    /** Records waiting for a commit before new ones are pushed back (503 / PUBACK withheld). */
    maxPendingRecords: Type.Integer({ minimum: 1, default: 20_000 }),
    /**
     * A car time (`ts`) more than this ahead of the time of receipt is flagged `ahead`: stored as
     * sent, counted, and not trusted for the policy's per-vehicle time limits (docs/telemetry.md).
     */
    clockAheadMaxSeconds: Type.Integer({ minimum: 1, maximum: 31_536_000, default: 300 }),
    /** A car time more than this behind the time of receipt is flagged `behind` (data buffered offline is normal: days). */
    clockBehindMaxSeconds: Type.Integer({ minimum: 1, maximum: 31_536_000, default: 604_800 }),
  },
  { ...strict, default: {} },
);

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
     */
    batch: Type.Object(
      {
        maxRecords: Type.Integer({ minimum: 1, maximum: 10_000, default: 1 }),
        maxBytes: Type.Integer({ minimum: 1_024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 }),
        maxWaitMs: Type.Integer({ minimum: 0, maximum: 10_000, default: 5 }),
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

export const PseudonymSchema = Type.Object(
  {
    /** Pseudonyms are stable within an epoch and unlinkable across epochs. */
    epochDays: Type.Integer({ minimum: 1, maximum: 366, default: 30 }),
  },
  { ...strict, default: {} },
);

/** The egress queue: the outbox table itself (embedded default) or Apache Kafka. */
export const KafkaQueueSchema = Type.Object(
  {
    brokers: Type.Array(Type.String({ pattern: '^[^\\s:]+:\\d+$' }), { minItems: 1, default: ['127.0.0.1:19092'] }),
    clientId: Type.String({ minLength: 1, default: 'shekara' }),
    /** Topics are `{topicPrefix}egress.{oem}` and `{topicPrefix}egress.{oem}.dlq`; created at start. */
    topicPrefix: Type.String({ pattern: '^[A-Za-z0-9._-]*$', default: 'shekara.' }),
    partitions: Type.Integer({ minimum: 1, maximum: 1_000, default: 6 }),
    replicationFactor: Type.Integer({ minimum: 1, maximum: 7, default: 1 }),
    /** Outbox rows per producer request, and how long the relay waits to fill one. */
    relayBatchSize: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
    relayLingerMs: Type.Integer({ minimum: 0, maximum: 1_000, default: 5 }),
    /** Unacknowledged produce requests per broker connection (<= 5 keeps order with idempotence, KIP-98). */
    maxInFlightRequests: Type.Integer({ minimum: 1, maximum: 5, default: 1 }),
    /** Upper bound on a consumer fetch wait; also bounds how long close() waits for a fetch. */
    maxWaitTimeMs: Type.Integer({ minimum: 10, maximum: 10_000, default: 200 }),
    /**
     * Consumer group session: a crashed gateway's partitions move to another member after this.
     * The broker bounds it (group.min.session.timeout.ms, 6 s by default).
     */
    sessionTimeoutMs: Type.Integer({ minimum: 6_000, maximum: 300_000, default: 10_000 }),
  },
  { ...strict, default: {} },
);

export const EgressQueueSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('local'), Type.Literal('kafka')], { default: 'local' }),
    kafka: KafkaQueueSchema,
  },
  { ...strict, default: {} },
);

export const EgressSchema = Type.Object(
  {
    /**
     * Deliveries in flight at once. An OEM abroad is ~100-300 ms away, so deliveries/s is about
     * concurrency / round-trip time: 8 would cap a distant OEM near 40/s.
     */
    concurrency: Type.Integer({ minimum: 1, maximum: 1024, default: 64 }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
    initialBackoffMs: Type.Integer({ minimum: 1, default: 500 }),
    maxBackoffMs: Type.Integer({ minimum: 1, default: 60_000 }),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
    /** Idle poll of the outbox; new records wake the worker at once. */
    pollIntervalMs: Type.Integer({ minimum: 10, default: 1_000 }),
    /** Outbox rows not yet handed on above which ingest is pushed back (PUBACK withheld, HTTP 503). */
    maxBacklog: Type.Integer({ minimum: 1, default: 100_000 }),
    /** Per-OEM circuit breaker: opens after this many consecutive retriable failures, for openMs. */
    breaker: Type.Object(
      {
        failureThreshold: Type.Integer({ minimum: 1, default: 5 }),
        openMs: Type.Integer({ minimum: 10, default: 5_000 }),
      },
      { ...strict, default: {} },
    ),
    queue: EgressQueueSchema,
    /**
     * Deliveries run in a worker thread of their own (own event loop, own store connection), so
     * ingest at full load cannot starve them. false: in the main thread (one core, small loads).
     * An in-memory SQLite store (`:memory:`) cannot be shared with a thread: main thread then.
     */
    thread: Type.Boolean({ default: true }),
    /**
     * Backlog per OEM (metrics shekara.egress.outbox.depth / .oldest_age), read every
     * `checkEveryMs`; one warning per reading names the OEMs whose oldest row waits longer than
     * `warnAgeSeconds`.
     */
    backlog: Type.Object(
      {
        warnAgeSeconds: Type.Integer({ minimum: 1, default: 300 }),
        checkEveryMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 5_000 }),
      },
      { ...strict, default: {} },
    ),
  },
  { ...strict, default: {} },
);

/** The egress log's Merkle tree and signed checkpoints (src/audit, docs/audit.md). */
export const AuditSchema = Type.Object(
  {
    /** The log's name: first line of every checkpoint and the name of its Ed25519 key. No spaces or '+'. */
    origin: Type.String({ pattern: '^[^\\s+]+$', default: 'shekara.local/egress-log' }),
    /** While the log grows, a checkpoint is signed every this many milliseconds. */
    checkpointIntervalMs: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 5_000 }),
    /**
     * PostgreSQL: settled outcomes are integrated into the log (seq, leaf, tree) in batches every
     * this many milliseconds, by one instance at a time (docs/audit.md "Sequencing"). SQLite
     * integrates each outcome in its own transaction and ignores it.
     */
    integrateIntervalMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 100 }),
  },
  { ...strict, default: {} },
);

/**
 * The regulator's reports (src/reports, docs/regulator.md "Reports"). The cross-border ledger
 * raises an alert when a counter over its period reaches a threshold, per OEM and in total; 0
 * turns a threshold off. The defaults are China's yearly figures for automobile data (Several
 * Provisions on Automobile Data Security Management, 2021): 100,000 persons, 10,000 persons
 * whose sensitive data (location, owner and driver data) crossed.
 */
export const ReportsSchema = Type.Object(
  {
    thresholds: Type.Object(
      {
        persons: Type.Integer({ minimum: 0, default: 100_000 }),
        sensitivePersons: Type.Integer({ minimum: 0, default: 10_000 }),
        vehicles: Type.Integer({ minimum: 0, default: 0 }),
        records: Type.Integer({ minimum: 0, default: 0 }),
        bytes: Type.Integer({ minimum: 0, default: 0 }),
      },
      { ...strict, default: {} },
    ),
  },
  { ...strict, default: {} },
);

/** Kazakhstan's public holidays on fixed dates (Law on holidays, art. 1), as MM-DD; moved days off are added per year. */
export const KZ_FIXED_HOLIDAYS = [
  '01-01',
  '01-02',
  '03-08',
  '03-21',
  '03-22',
  '03-23',
  '05-01',
  '05-07',
  '05-09',
  '07-06',
  '08-30',
  '10-25',
  '12-16',
];

/**
 * Personal-data incidents (src/incidents, docs/regulator.md "Incidents"): the notice to the
 * authorized body is due within `noticeBusinessDays` business days of discovery (Law 44-VIII of
 * 11 Dec 2023; one business day), counted on the working calendar of `timeZone`: Saturdays,
 * Sundays and `holidays` (MM-DD every year, or YYYY-MM-DD once) are not business days.
 */
export const IncidentsSchema = Type.Object(
  {
    timeZone: Type.String({ minLength: 1, default: 'Asia/Almaty' }),
    holidays: Type.Array(Type.String({ pattern: '^(\\d{4}-)?\\d{2}-\\d{2}$' }), { default: KZ_FIXED_HOLIDAYS }),
    noticeBusinessDays: Type.Integer({ minimum: 1, maximum: 30, default: 1 }),
    /** The responsible person's contact, printed on every notice (Order 481/НҚ of 9 Aug 2024). */
    contact: Type.String({ maxLength: 500, default: '' }),
  },
  { ...strict, default: {} },
);

export const LogSchema = Type.Object(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
  },
  { ...strict, default: {} },
);

/**
 * Traces and metrics (src/telemetry, docs/observability.md). Off by default: tracing disabled
 * starts no SDK, and metrics are served only when a reader is configured. Whatever is exported
 * is metadata about the traffic (ids, outcomes, timings), never a VIN or a payload; the
 * collector and the scraper still belong inside the country.
 */
export const TelemetrySchema = Type.Object(
  {
    /**
     * `service.name` of every span and metric. Absent: OTEL_SERVICE_NAME (or service.name in
     * OTEL_RESOURCE_ATTRIBUTES), else `shekara`. Set: it wins over the environment.
     */
    serviceName: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    tracing: Type.Object(
      {
        enabled: Type.Boolean({ default: false }),
        /**
         * OTLP traces endpoint of a collector. Absent: the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
         * / OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318/v1/traces.
         */
        otlpUrl: Type.Optional(Type.String({ pattern: '^https?://', minLength: 8 })),
        /**
         * Share of new traces recorded (root spans); a trace, once started, is recorded whole.
         * Absent: OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, else every trace.
         */
        sampleRatio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      },
      { ...strict, default: {} },
    ),
    metrics: Type.Object(
      {
        /**
         * Prometheus scrape endpoint on its OWN listener (GET /metrics), never on the public HTTP
         * port. Deny by default: disabled, and bound to loopback when enabled.
         */
        prometheus: Type.Object(
          {
            enabled: Type.Boolean({ default: false }),
            host: Type.String({ minLength: 1, default: '127.0.0.1' }),
            port: { ...Port, default: 9464 },
          },
          { ...strict, default: {} },
        ),
        /** OTLP/HTTP (JSON) metrics endpoint of a collector; absent: no push. */
        otlpUrl: Type.Optional(Type.String({ pattern: '^https?://', minLength: 8 })),
      },
      { ...strict, default: {} },
    ),
  },
  { ...strict, default: {} },
);

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

/**
 * The key file that seals the store's secrets (src/keys/ring.ts, docs/deployment.md "Hardening").
 * Keep it apart from the data: another disk, a mounted secret.
 */
export const KeysSchema = Type.Object(
  {
    /** Directory of the key file (0700, the file 0600). Relative to the config file; empty: `<dataDir>/keys`. */
    dir: Type.String({ default: '' }),
    /** A file holding a key-encryption key (32 bytes, base64) that seals the key file; SHEKARA_KEYS_KEK wins over it. */
    kekFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { ...strict, default: {} },
);

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
