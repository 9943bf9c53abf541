/**
 * The embedded MQTT broker (aedes), locked down. aedes allows everything unless told
 * otherwise; here every hook denies unless a rule allows:
 *  - CONNECT: client id = username = a registered VIN, secret checked against its hash,
 *    keepalive within bounds, no will message.
 *  - PUBLISH: only to `vehicles/{own VIN}/telemetry`, and acknowledgements of downlink commands
 *    to `vehicles/{own VIN}/commands/ack` (validated: command-ack.ts), within topic and rate limits.
 *  - SUBSCRIBE: only to `vehicles/{own VIN}/commands`, no wildcards.
 *
 * Durability: aedes writes the PUBACK right after `authorizePublish` calls back, and before
 * its `published` event, so the record is committed INSIDE authorizePublish. The callback
 * MUST NOT run before intake.accept has resolved (record durable in the local store).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createMqttsServer, peerIdentity, type MqttsServer, type PeerIdentity } from './tls.js';
import { Aedes, type Client, type AuthenticateError } from 'aedes';
import type { LimitsConfig, MqttConfig } from '../config/schema.js';
import type { VehicleRow } from '../store/index.js';
import { vehicleSecretMatches, VIN_RE } from './credentials.js';
import type { Intake, Vehicle } from './intake.js';
import { guardSocket } from './packet-guard.js';
import { createRateLimiter } from './rate-limit.js';
import { isShekaraError } from '../errors.js';
import { listen } from '../net.js';
import type { Logger } from '../log.js';
import { logFields } from '../telemetry/index.js';
import { parseCommandAck, type CommandAckMessage } from './command-ack.js';

export interface MqttIngest {
  readonly port: number;
  /** The MQTTS port, when mqtt.tls is enabled. */
  readonly tlsPort: number | undefined;
  /** Re-reads the MQTTS certificate, key, client CA and CRL (SIGHUP). */
  reloadTls(): void;
  readonly connectedVehicles: number;
  /**
   * Closes every MQTT connection authenticated as `vin` (its credentials were rotated or
   * revoked); returns how many were closed. The car must reconnect with valid credentials.
   */
  disconnectVehicle(vin: string): number;
  /**
   * Checks every live connection against the store again (SIGHUP): a connection whose vehicle
   * is revoked, gone, or whose secret changed since it authenticated is closed. Returns how many.
   */
  recheckCredentials(): Promise<number>;
  /** Publishes a downlink command to a vehicle's command topic (QoS 1). */
  publishCommand(vin: string, payload: Buffer): Promise<void>;
  /** True while the vehicle is connected and subscribed to its command topic. */
  isCommandSubscriber(vin: string): boolean;
  close(): Promise<void>;
}

export interface MqttDeps {
  readonly lookupVehicle: (vin: string) => Promise<VehicleRow | undefined>;
  readonly intake: Intake;
  readonly log: Logger;
  /**
   * A car acknowledged a downlink command. The PUBACK is sent only after this resolves (the
   * acknowledgement is recorded); without a handler the ack topic is denied like any other.
   */
  readonly onCommandAck?: (vin: string, ack: CommandAckMessage) => Promise<void>;
  /** A car (re)subscribed to its command topic: commands waiting for it can go now. */
  readonly onCommandSubscribed?: (vin: string) => void;
}

const BACKPRESSURE_RETRY_MS = 50;
const BACKPRESSURE_MAX_WAIT_MS = 30_000;

export const telemetryTopic = (vin: string): string => `vehicles/${vin}/telemetry`;
export const commandTopic = (vin: string): string => `vehicles/${vin}/commands`;
export const commandAckTopic = (vin: string): string => `vehicles/${vin}/commands/ack`;

export async function startMqttIngest(cfg: MqttConfig, limits: LimitsConfig, deps: MqttDeps): Promise<MqttIngest> {
  const { intake, log } = deps;
  const sessions = new WeakMap<Client, Vehicle>();
  /** VIN → the session subscribed to its command topic (one per VIN: the client id is the VIN). */
  const commandSubscribers = new Map<string, Client>();
  // The live connections of each VIN, so a rotated or revoked credential can be cut off at once.
  const byVin = new Map<string, Set<Client>>();
  // Bumped each time a VIN's connections are cut, so a CONNECT whose look-up straddled the cut is refused.
  const cuts = new Map<string, number>();
  const generation = (vin: string) => cuts.get(vin) ?? 0;
  // The secret hash a connection authenticated with (none for a client certificate).
  const authenticatedWith = new WeakMap<Client, Buffer>();
  const startSession = (client: Client, vehicle: Vehicle, secretHash?: Buffer) => {
    sessions.set(client, vehicle);
    if (secretHash) authenticatedWith.set(client, secretHash);
    let set = byVin.get(vehicle.vin);
    if (!set) byVin.set(vehicle.vin, (set = new Set()));
    set.add(client);
  };
  const rate = createRateLimiter(limits.messagesPerSecond, limits.messageBurst);
  // Set once the listeners exist; authenticate only runs after a socket was accepted.
  let peerOf: (client: Client) => PeerIdentity | undefined = () => undefined;

  // Log lines name a car by its keyed reference (src/vehicle-ref.ts), never by VIN, client id,
  // username or topic: those are a VIN, or whatever a client typed (a secret, a name).
  const ref = (client: Client | null) =>
    client?.id && VIN_RE.test(client.id) ? intake.vehicleRef(client.id) : undefined;
  const refuse = (client: Client | null, reason: string, detail: Record<string, unknown> = {}): Error => {
    intake.reject(reason, 'mqtt');
    log.warn({ vehicle: ref(client), reason, ...detail }, 'mqtt: refused');
    return Object.assign(new Error(reason), { code: reason });
  };

  const broker = await Aedes.createBroker({
    connectTimeout: limits.connectTimeoutMs,
    maxTopicLevels: limits.maxTopicLevels,
    maxClientsIdLength: 17,

    preConnect(client, packet, done) {
      if (packet.will) return done(refuse(client, 'will-not-allowed'), false);
      const ka = packet.keepalive ?? 0;
      if (ka < limits.keepaliveMinSeconds || ka > limits.keepaliveMaxSeconds) {
        return done(
          refuse(client, 'keepalive-out-of-bounds', {
            keepalive: ka,
            min: limits.keepaliveMinSeconds,
            max: limits.keepaliveMaxSeconds,
          }),
          false,
        );
      }
      done(null, true);
    },

    authenticate(client, username, password, done) {
      const deny = (returnCode: 2 | 3 | 4 | 5, reason: string) => {
        refuse(client, reason);
        done(Object.assign(new Error(reason), { returnCode }) as AuthenticateError, false);
      };
      // The store could not answer: "server unavailable", and the car retries later.
      const unavailable = (err: unknown) => {
        log.error({ err, vehicle: ref(client) }, 'mqtt: could not look the vehicle up');
        deny(3, 'store-unavailable');
      };
      // The client id must equal the VIN it authenticates as, so one car cannot take over
      // another's session [MQTT-3.1.3-8: the server may refuse a client id it does not allow].
      const peer = peerOf(client);
      if (peer?.presented) {
        // mTLS: the certificate is the credential. Its CN binds it to one VIN, which must
        // also be the client id (and the username, if one is sent).
        if (!peer.authorized) return deny(5, `certificate-rejected:${peer.error ?? 'untrusted'}`);
        if (!peer.commonName || !VIN_RE.test(peer.commonName)) return deny(5, 'certificate-cn-not-vin');
        if (client.id !== peer.commonName || (username !== undefined && username !== peer.commonName))
          return deny(2, 'client-id-not-certificate-vin');
        const gen = generation(peer.commonName);
        return void deps.lookupVehicle(peer.commonName).then((vehicle) => {
          if (!vehicle) return deny(5, 'certificate-vehicle-unregistered');
          if (generation(vehicle.vin) !== gen) return deny(5, 'credentials-changed');
          startSession(client, { vin: vehicle.vin, oem: vehicle.oem });
          done(null, true);
        }, unavailable);
      }
      if (!username || !VIN_RE.test(username)) return deny(4, 'bad-username');
      if (client.id !== username) return deny(2, 'client-id-not-vin');
      const gen = generation(username);
      deps.lookupVehicle(username).then((vehicle) => {
        // The same work for an unknown VIN as for a wrong secret (credentials.ts).
        if (!vehicleSecretMatches(vehicle, password)) return deny(4, 'bad-credentials');
        // Rotated or revoked while this look-up was under way: what it read may be the old secret.
        if (generation(vehicle.vin) !== gen) return deny(4, 'credentials-changed');
        startSession(client, { vin: vehicle.vin, oem: vehicle.oem }, vehicle.secretHash);
        done(null, true);
      }, unavailable);
    },

    authorizePublish(client, packet, done) {
      if (client === null) return done(null); // the gateway's own downlink publishes
      const vehicle = sessions.get(client);
      if (!vehicle) return done(refuse(client, 'not-authenticated'));
      if (packet.topic.length > limits.maxTopicLength)
        return done(refuse(client, 'topic-too-long', { length: packet.topic.length }));
      const ack = packet.topic === commandAckTopic(vehicle.vin) && deps.onCommandAck;
      if (packet.topic !== telemetryTopic(vehicle.vin) && !ack) return done(refuse(client, 'publish-topic-denied'));
      if (!rate.take(vehicle.vin))
        return done(refuse(client, 'rate-limit-exceeded', { ratePerSecond: limits.messagesPerSecond }));
      if (ack) {
        packet.retain = false;
        const parsed = parseCommandAck(Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
        if ('invalid' in parsed) return done(refuse(client, 'command-ack-invalid', { problem: parsed.invalid }));
        ack(vehicle.vin, parsed).then(
          () => done(null),
          (err: unknown) => {
            log.error(
              { err, vehicle: intake.vehicleRef(vehicle.vin) },
              'mqtt: could not record a command acknowledgement; disconnecting so the car resends',
            );
            done(err as Error);
          },
        );
        return;
      }
      // Retained telemetry would sit in the broker's memory and be replayed to subscribers;
      // the local store is where telemetry lives.
      packet.retain = false;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const started = Date.now();
      // One receive span for the message, across the pushed-back attempts below.
      const span = intake.startReceive('mqtt');
      const attempt = (): void => {
        intake.accept(vehicle, 'mqtt', payload, { span }).then(
          () => {
            span.end();
            done(null);
          },
          (err: unknown) => {
            // Backpressure: withhold the PUBACK and try again; the car's in-flight window
            // fills and it slows down. Past the bound, disconnect: the car will resend.
            if (isShekaraError(err, 'SHK_INGEST_BACKPRESSURE') && Date.now() - started < BACKPRESSURE_MAX_WAIT_MS) {
              setTimeout(attempt, BACKPRESSURE_RETRY_MS).unref();
              return;
            }
            span.end();
            log.error(
              { err, vehicle: intake.vehicleRef(vehicle.vin), ...logFields(span) },
              'mqtt: could not store record; disconnecting so the car resends',
            );
            done(err as Error);
          },
        );
      };
      attempt();
    },

    authorizeSubscribe(client, sub, done) {
      const vehicle = sessions.get(client);
      if (!vehicle || sub.topic !== commandTopic(vehicle.vin)) {
        refuse(client, 'subscribe-topic-denied');
        return done(null, null); // SUBACK 0x80 for this topic; the connection stays
      }
      done(null, sub);
    },

    authorizeForward(client, packet) {
      const vehicle = sessions.get(client);
      return vehicle && packet.topic === commandTopic(vehicle.vin) ? packet : null;
    },
  });

  const endSession = (client: Client) => {
    const v = sessions.get(client);
    if (!v) return;
    const set = byVin.get(v.vin);
    set?.delete(client);
    if (set?.size === 0) byVin.delete(v.vin);
  };
  broker.on('clientDisconnect', (client) => {
    const v = sessions.get(client);
    if (v) rate.forget(v.vin);
    endSession(client);
    if (v && commandSubscribers.get(v.vin) === client) commandSubscribers.delete(v.vin);
  });
  const commandsReady = (client: Client, v: Vehicle) => {
    commandSubscribers.set(v.vin, client);
    deps.onCommandSubscribed?.(v.vin);
  };
  broker.on('subscribe', (subs, client) => {
    const v = client && sessions.get(client);
    // A persistent session's subscriptions are restored before its CONNACK: wait for clientReady.
    if (v && client.connected && subs.some((s) => s.topic === commandTopic(v.vin) && (s.qos as number) !== 128))
      commandsReady(client, v);
  });
  broker.on('clientReady', (client) => {
    const v = sessions.get(client);
    if (
      v &&
      (client as Client & { subscriptions: Record<string, unknown> }).subscriptions[commandTopic(v.vin)] !== undefined
    )
      commandsReady(client, v);
  });
  broker.on('unsubscribe', (topics, client) => {
    const v = client && sessions.get(client);
    if (v && topics.includes(commandTopic(v.vin)) && commandSubscribers.get(v.vin) === client)
      commandSubscribers.delete(v.vin);
  });
  // A connection that ends on an error, or is taken over by a new one with the same client id,
  // does not always emit clientDisconnect.
  broker.on('clientError', (client) => endSession(client));
  broker.on('clientError', (client, err) =>
    log.info({ vehicle: ref(client), reason: err.message }, 'mqtt: client disconnected on error'),
  );
  broker.on('connectionError', (_client, err) =>
    log.info({ reason: err.message }, 'mqtt: connection closed before CONNECT completed'),
  );

  function disconnect(vin: string, clients: readonly Client[]): number {
    for (const c of clients) {
      log.info(
        { vehicle: ref(c), reason: 'credentials-changed' },
        'mqtt: disconnecting a vehicle whose credentials were rotated or revoked',
      );
      endSession(c);
      sessions.delete(c); // no publish of this session is authorized from here on
      c.close();
    }
    if (byVin.get(vin)?.size === 0) byVin.delete(vin);
    return clients.length;
  }

  const peers = new WeakMap<object, PeerIdentity>();
  const accept = (socket: Socket, peer?: PeerIdentity) => {
    socket.setNoDelay(true);
    const remote = socket.remoteAddress;
    const conn = guardSocket(socket, limits.maxPacketBytes, (err) => {
      intake.reject('packet-too-large', 'mqtt');
      log.warn({ remote, reason: err.message }, 'mqtt: connection closed');
    });
    if (peer) peers.set(conn, peer);
    broker.handle(conn);
  };
  peerOf = (client) => peers.get(client.conn);

  const server: Server = createServer((socket) => accept(socket));
  const port = await listen(server, cfg.port, cfg.host, 'MQTT', 'SHEKARA_MQTT_PORT');
  let mqtts: MqttsServer | undefined;
  let tlsPort: number | undefined;
  if (cfg.tls.enabled) {
    mqtts = createMqttsServer(
      cfg.tls,
      (socket) => accept(socket, peerIdentity(socket)),
      (err) =>
        log.error({ reason: err.message }, 'mqtts: reloading certificates failed; the previous ones stay in use'),
    );
    tlsPort = await listen(mqtts.server, cfg.tls.port, cfg.tls.host, 'MQTTS', 'SHEKARA_MQTTS_PORT');
  }

  return {
    port,
    tlsPort,
    reloadTls: () => mqtts?.reload(),
    get connectedVehicles() {
      return broker.connectedClients;
    },
    isCommandSubscriber: (vin) => commandSubscribers.has(vin),
    disconnectVehicle(vin) {
      cuts.set(vin, generation(vin) + 1);
      return disconnect(vin, [...(byVin.get(vin) ?? [])]);
    },
    async recheckCredentials() {
      let closed = 0;
      for (const [vin, clients] of [...byVin]) {
        const v = await deps.lookupVehicle(vin);
        const stale = [...clients].filter((c) => {
          const h = authenticatedWith.get(c);
          return !v || (h !== undefined && !h.equals(v.secretHash));
        });
        if (stale.length > 0) cuts.set(vin, generation(vin) + 1);
        closed += disconnect(vin, stale);
      }
      return closed;
    },
    publishCommand: (vin, payload) =>
      new Promise((resolve, reject) => {
        broker.publish(
          { cmd: 'publish', topic: commandTopic(vin), payload, qos: 1, retain: false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        );
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close();
        mqtts?.close();
        broker.close(() => resolve());
      }),
  };
}
