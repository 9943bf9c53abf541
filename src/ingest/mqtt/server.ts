/**
 * The car endpoint: MQTT 3.1, 3.1.1 and 5.0 on one listener (and on MQTTS), built for what a
 * car does here — connect as itself, publish its telemetry, subscribe to its commands,
 * acknowledge them — and nothing else (no topic tree, no retained messages, no wills).
 *
 * Limits before authentication, each counted by reason in shekara.ingest.rejects and logged:
 * `maxConnections` (above it the CONNECT gets "server busy"), `connectionsPerAddressPerSecond`
 * (above it "connection rate exceeded"), `maxConnectBytes` (on the declared length), and
 * `connectTimeoutMs`. A socket refused by the first two is still answered with a CONNACK while
 * at most REFUSING sockets wait for theirs; past that it is closed at once.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { LimitsConfig, MqttConfig } from '../../config/schema.js';
import { createMqttsServer, peerIdentity, type MqttsServer, type PeerIdentity } from '../tls.js';
import { createRateLimiter } from '../rate-limit.js';
import { listen } from '../../net.js';
import { RC, type ConnectRefusal } from './codes.js';
import { Connection } from './connection.js';
import { commandTopic, createRefusalLog, type Endpoint, type HeldConnection, type MqttDeps } from './endpoint.js';
import { createSessions } from './session.js';
import { sendOrQueue } from './outbound.js';

export interface MqttIngest {
  readonly port: number;
  /** The MQTTS port, when mqtt.tls is enabled. */
  readonly tlsPort: number | undefined;
  /** Re-reads the MQTTS certificate, key, client CA and CRL (SIGHUP). */
  reloadTls(): void;
  readonly connectedVehicles: number;
  /**
   * Closes the MQTT connection authenticated as `vin` (its credentials were rotated or revoked);
   * returns how many were closed. The car must reconnect with valid credentials.
   */
  disconnectVehicle(vin: string): number;
  /**
   * Checks every live connection against the store again (SIGHUP): a connection whose vehicle
   * is revoked, gone, or whose secret changed since it authenticated is closed. Returns how many.
   */
  recheckCredentials(): Promise<number>;
  /**
   * Publishes a downlink command to a vehicle's command topic (QoS 1, or the QoS it subscribed
   * with if lower). `commandId` names the downlink command: a re-send of it from the session is
   * checked again first (outbound.ts).
   */
  publishCommand(vin: string, payload: Buffer, commandId?: string): Promise<void>;
  /** True while the vehicle is connected and subscribed to its command topic. */
  isCommandSubscriber(vin: string): boolean;
  close(): Promise<void>;
}

/** Sockets over a pre-authentication limit that may wait for their CONNECT to be answered. */
const REFUSING = 256;

export async function startMqttIngest(cfg: MqttConfig, limits: LimitsConfig, deps: MqttDeps): Promise<MqttIngest> {
  const { log } = deps;
  const refusals = createRefusalLog(log);
  const cuts = new Map<string, number>();
  const generation = (vin: string) => cuts.get(vin) ?? 0;
  const live = new Set<Connection>();
  let refusing = 0;
  const sessions = createSessions(() => undefined);
  // Connections that met limits.maxUnacknowledgedTotal, in the order they met it (a Set keeps it).
  const held = new Set<HeldConnection>();
  const ep: Endpoint = {
    limits,
    deps,
    sessions,
    connects: createRateLimiter(limits.connectsPerVehiclePerMinute / 60, limits.connectsPerVehiclePerMinute),
    generation,
    reject(reason, detail = {}) {
      deps.intake.reject(reason, 'mqtt');
      refusals.note(reason, detail);
    },
    authenticated: 0,
    unacknowledged: 0,
    holdForRoom: (c) => void held.add(c),
    roomFreed() {
      // First held, first let go; one that meets the cap again goes to the back of the line.
      for (const c of held) {
        if (ep.unacknowledged >= limits.maxUnacknowledgedTotal) return;
        held.delete(c);
        c.release();
      }
    },
  };
  const perAddress = createRateLimiter(limits.connectionsPerAddressPerSecond, limits.connectionBurstPerAddress);

  const accept = (socket: Socket, peer?: PeerIdentity) => {
    let refusal: ConnectRefusal | undefined;
    if (live.size >= limits.maxConnections) refusal = 'server-busy';
    else if (!perAddress.take(socket.remoteAddress ?? '')) refusal = 'connection-rate-exceeded';
    if (refusal && refusing >= REFUSING) {
      ep.reject(refusal);
      socket.destroy();
      return;
    }
    if (refusal) refusing += 1;
    const c = new Connection(ep, socket, peer, refusal, (closed) => {
      if (refusal) refusing -= 1;
      live.delete(closed);
      held.delete(closed);
      if (closed.session) {
        ep.authenticated -= 1;
        sessions.detach(closed.session, closed);
      }
    });
    live.add(c);
  };

  // Connect timeout and keepalive [MQTT-3.1.2-24: nothing within 1.5 × keepalive → close], one sweep for all sockets.
  const sweepMs = Math.max(50, Math.min(1_000, Math.floor(limits.connectTimeoutMs / 4)));
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const c of live) {
      if (c.state === 'new' || c.state === 'authenticating') {
        if (now - c.openedAt > limits.connectTimeoutMs) {
          ep.reject('connect-timeout');
          c.destroy();
        }
      } else if (
        c.state === 'open' &&
        c.keepaliveMs > 0 &&
        // A socket the server stopped reading: the car's PINGREQs may be waiting unread in it.
        !c.pausedByServer &&
        now - c.lastRx > c.keepaliveMs * 1.5
      ) {
        ep.reject('keepalive-timeout');
        c.disconnect(RC.keepAliveTimeout, 'keepalive timeout');
      }
    }
    perAddress.sweep(now);
    ep.connects.sweep(now);
    deps.rate.sweep(now);
  }, sweepMs);
  sweep.unref();

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

  const cut = (c: Connection) => {
    log.info(
      { reason: 'credentials-changed' },
      'mqtt: disconnecting a vehicle whose credentials were rotated or revoked',
    );
    c.disconnect(RC.administrativeAction, 'credentials changed');
  };
  const connOf = (vin: string) => {
    const c = sessions.get(vin)?.conn;
    return c instanceof Connection && c.state === 'open' ? c : undefined;
  };

  return {
    port,
    tlsPort,
    reloadTls: () => mqtts?.reload(),
    get connectedVehicles() {
      return ep.authenticated;
    },
    isCommandSubscriber: (vin) => connOf(vin) !== undefined && sessions.get(vin)?.commandQos !== undefined,
    disconnectVehicle(vin) {
      cuts.set(vin, generation(vin) + 1);
      const c = connOf(vin);
      if (!c) return 0;
      cut(c);
      return 1;
    },
    async recheckCredentials() {
      let closed = 0;
      for (const c of [...live]) {
        if (c.state !== 'open' || !c.vehicle) continue;
        const v = await deps.lookupVehicle(c.vehicle.vin);
        if (v && (c.secretHash === undefined || c.secretHash.equals(v.secretHash))) continue;
        cuts.set(c.vehicle.vin, generation(c.vehicle.vin) + 1);
        cut(c);
        closed += 1;
      }
      return closed;
    },
    async publishCommand(vin, payload, commandId) {
      const s = sessions.get(vin);
      const c = connOf(vin);
      if (!s || !c || s.commandQos === undefined) return; // not subscribed: nobody to deliver to
      if (4 + commandTopic(vin).length + payload.length > c.clientMaxPacket)
        throw new Error("the command is larger than the car's Maximum Packet Size");
      if (s.commandQos === 0) return c.sendCommand(undefined, { payload, commandId, sent: false, due: false }, false);
      sendOrQueue(ep, s, payload, commandId);
    },
    close: async () => {
      clearInterval(sweep);
      refusals.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        mqtts?.close();
        for (const c of [...live]) c.destroy();
      });
      sessions.close();
    },
  };
}
