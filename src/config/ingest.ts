/**
 * The config sections of MQTT, GB/T 32960, HTTPS ingest and its limits (the door: ./schema.ts, which composes `ConfigSchema`).
 */
import { Type } from '@sinclair/typebox';
import { Host, Port, strict } from './common.js';

const TlsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    certFile: Type.Optional(Type.String({ minLength: 1 })),
    keyFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { ...strict, default: {} },
);

/** MQTT over TLS. With `clientCaFile`, a car may authenticate by client certificate (mTLS). */
export const MqttTlsSchema = Type.Object(
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
export const MqttExternalSchema = Type.Object(
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
     * Downlink commands: after a publish the broker refused (no subscription of the car's), the
     * pause before the car's next attempt; it doubles with each refusal up to 5 minutes.
     */
    commandRetryMinMs: Type.Integer({ minimum: 10, maximum: 300_000, default: 5_000 }),
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
    /** A refused vehicle login (wrong secret, unknown VIN) is answered no sooner than this after it began: it slows guessing; equal work, not this floor, makes a known and an unknown VIN take the same time (src/ingest/credentials.ts). */
    authRefusalFloorMs: Type.Integer({ minimum: 0, maximum: 10_000, default: 5 }),
    /** CONNECTs per vehicle per minute; more get "quota exceeded". */
    connectsPerVehiclePerMinute: Type.Integer({ minimum: 1, default: 60 }),
    /** QoS 1 and 2 PUBLISHes a car may have unacknowledged (MQTT 5 Receive Maximum, advertised). */
    receiveMaximum: Type.Integer({ minimum: 1, maximum: 65_535, default: 100 }),
    /**
     * QoS 1 and 2 PUBLISHes unacknowledged across all cars together. Each holds its decoded record
     * in memory until its commit (~8 KB), so this bounds the endpoint's memory under overload
     * (receiveMaximum alone allows maxConnections × 100). At the cap the PUBLISH that met it is
     * not decoded: its PUBACK is withheld and it and the car's later PUBLISHes wait as packets
     * (up to maxPacketBytes of them, then in TCP); PINGREQs are still answered.
     */
    maxUnacknowledgedTotal: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 20_000 }),
    /**
     * While ingest is pushed back (egress.maxBacklog, egress.maxBacklogAgeSeconds), how long a
     * car's QoS 1/2 PUBLISH may wait for the store, PUBACK withheld, before the car is
     * disconnected to send it again. 0 (the default): as long as the car stays connected. A held
     * car is still read and its PINGREQs answered, and maxUnacknowledgedTotal bounds what waits,
     * so through a long OEM outage cars stay connected instead of reconnecting and resending
     * their window every few seconds. QoS 0 (nothing to withhold) waits at most 30 s.
     */
    pushbackMaxWaitSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 0 }),
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
