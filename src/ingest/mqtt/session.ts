/**
 * Session state (MQTT 3.1.1 §4.1, MQTT 5 §4.1): what outlives a connection when the car asks
 * for a persistent session (3.1.1 Clean Session 0; 5.0 Session Expiry Interval > 0). The client
 * id is the VIN, so there is at most one session per vehicle. Kept in memory, bounded by the
 * registered vehicles and expired after `limits.sessionExpiryMaxSeconds` at the latest; the
 * exactly-once QoS 2 state also lives in the store, written with the record (qos2.ts).
 */
import type { Vehicle } from '../intake.js';

export interface OutboundCommand {
  readonly payload: Buffer;
  /**
   * The downlink command this publish carries (src/downlink): before it goes on the wire again —
   * re-sent on reconnect, or released from the backlog — it is checked again (outbound.ts).
   */
  readonly commandId: string | undefined;
  /** It went on the wire at least once: sent again, it carries DUP [MQTT-4.4.0-1]. */
  sent: boolean;
  /** Holds its packet id and waits for its check before it goes (again). */
  due: boolean;
}

export interface Session {
  readonly vehicle: Vehicle;
  /** The connection currently bound to the session (undefined while the car is away). */
  conn: SessionConnection | undefined;
  /** Seconds the session outlives its connection; 0: it ends with the connection. */
  expirySeconds: number;
  expiryTimer: NodeJS.Timeout | undefined;
  /** Granted QoS of the car's subscription to its command topic; undefined: not subscribed. */
  commandQos: 0 | 1 | 2 | undefined;
  /**
   * Inbound QoS 2 packet ids between PUBLISH and PUBREL [MQTT-4.3.3-2]: a promise while the
   * record is being committed, then true. A PUBLISH with one of these ids is a duplicate.
   */
  readonly qos2: Map<number, Promise<void> | true>;
  /** QoS 2 ids the store kept from before a gateway restart: a PUBLISH with DUP set and one of these is a duplicate. */
  readonly storedQos2: Set<number>;
  /** Outbound QoS 1 commands sent and not yet PUBACKed, by packet id, redelivered on resume [MQTT-4.4.0-1]. */
  readonly outbound: Map<number, OutboundCommand>;
  /** Commands waiting for room under the car's Receive Maximum (MQTT 5 §3.3.4). */
  readonly backlog: OutboundCommand[];
  nextPacketId: number;
  /** outbound.ts is putting due or backlogged commands on the wire; `again`: look once more when done. */
  pump: { again: boolean } | undefined;
}

/** What a session needs from the connection it is bound to. */
export interface SessionConnection {
  readonly state: 'new' | 'authenticating' | 'open' | 'closed';
  /** Ends the connection because another CONNECT took the session over [MQTT-3.1.4-2]. */
  takenOver(): void;
  sendCommand(packetId: number | undefined, cmd: OutboundCommand, dup: boolean): void;
  readonly clientReceiveMaximum: number;
}

export interface Sessions {
  get(vin: string): Session | undefined;
  /** Binds `conn` to the VIN's session: resumes the stored one unless `clean`; returns it and whether it was present. */
  open(
    vehicle: Vehicle,
    conn: SessionConnection,
    clean: boolean,
    expirySeconds: number,
  ): { session: Session; present: boolean };
  /** The connection went away: the session ends now, or after its expiry. */
  detach(session: Session, conn: SessionConnection): void;
  /** Drops a session whatever its expiry (credentials revoked). */
  discard(vin: string): void;
  /** A free outbound packet id (1..65535, never 0 [MQTT-2.3.1-1]). */
  packetId(session: Session): number;
  readonly size: number;
  close(): void;
}

export function createSessions(onEnd: (session: Session) => void): Sessions {
  const byVin = new Map<string, Session>();
  const end = (s: Session) => {
    if (s.expiryTimer) clearTimeout(s.expiryTimer);
    if (byVin.get(s.vehicle.vin) === s) byVin.delete(s.vehicle.vin);
    onEnd(s);
  };
  return {
    get: (vin) => byVin.get(vin),
    open(vehicle, conn, clean, expirySeconds) {
      let s = byVin.get(vehicle.vin);
      const previous = s?.conn;
      if (s && previous) {
        s.conn = undefined;
        previous.takenOver();
      }
      const present = s !== undefined && !clean;
      if (s && clean) {
        end(s);
        s = undefined;
      }
      if (!s) {
        s = {
          vehicle,
          conn: undefined,
          expirySeconds,
          expiryTimer: undefined,
          commandQos: undefined,
          qos2: new Map(),
          storedQos2: new Set(),
          outbound: new Map(),
          backlog: [],
          nextPacketId: 1,
          pump: undefined,
        };
        byVin.set(vehicle.vin, s);
      }
      if (s.expiryTimer) clearTimeout(s.expiryTimer);
      s.expiryTimer = undefined;
      s.expirySeconds = expirySeconds;
      s.conn = conn;
      return { session: s, present };
    },
    detach(s, conn) {
      if (s.conn !== conn) return; // taken over: the session lives on with its new connection
      s.conn = undefined;
      if (s.expirySeconds === 0) return end(s);
      s.expiryTimer = setTimeout(() => end(s), Math.min(s.expirySeconds * 1000, 2 ** 31 - 1));
      s.expiryTimer.unref();
    },
    discard(vin) {
      const s = byVin.get(vin);
      if (s) end(s);
    },
    packetId(s) {
      for (let i = 0; i < 65535; i++) {
        const id = s.nextPacketId;
        s.nextPacketId = id === 65535 ? 1 : id + 1;
        if (!s.outbound.has(id)) return id;
      }
      throw new Error('no free packet id: 65535 commands in flight');
    },
    get size() {
      return byVin.size;
    },
    close() {
      for (const s of [...byVin.values()]) end(s);
    },
  };
}
