/**
 * One car's socket: bytes → fixed-header size check → mqtt-packet parser → one handler per
 * packet kind (the dispatch table below). Acknowledgements leave in the order the PUBLISHes
 * arrived [MQTT-4.6.0-2], each only after its record is committed, and all that became ready
 * together leave in one socket write.
 *
 * Memory before authentication is bounded: the first packet is refused on its declared length
 * above limits.maxConnectBytes [MQTT-3.1.0-1: it must be the CONNECT], and reading stops while
 * the CONNECT is checked; what was pipelined behind it in the same read waits in `queued`.
 *
 * Memory after authentication is bounded too: a PUBLISH read while the car is at the Receive
 * Maximum, or a QoS 1/2 one while limits.maxUnacknowledgedTotal are unacknowledged across all
 * cars, is not decoded; it and the PUBLISHes after it wait in `queued` as packets, in order, and
 * go on when acknowledgements have left. Reading goes on meanwhile, because PUBACKs may be
 * withheld for minutes (ingest pushback) and a car that honours the Receive Maximum then sends
 * only PINGREQs: those are answered at once (PINGRESP has no ordering tie to the acknowledgements
 * of PUBLISHes, [MQTT-3.12.4-1], §4.6 orders only those), acknowledgements of commands are handled
 * as usual, and the socket is paused only when what waits passes limits.maxPacketBytes — the
 * size of one packet the parser may already hold — and then the keepalive does not count against
 * the car (server.ts), which gets a fresh period when reading resumes.
 */
import type { Socket } from 'node:net';
import mqttPacket, { type Packet, type Parser } from 'mqtt-packet';
import { PacketLengthScanner, PacketTooLargeError } from '../packet-guard.js';
import type { PeerIdentity } from '../tls.js';
import type { Vehicle } from '../intake.js';
import { CONNECT_REFUSALS, RC, type ConnectRefusal } from './codes.js';
import type { Endpoint, HeldConnection } from './endpoint.js';
import type { OutboundCommand, Session, SessionConnection } from './session.js';
import { encode, UNSUPPORTED_VERSION_V5, type ProtocolVersion } from './wire.js';
import { onConnect } from './connect.js';
import { onPublish } from './publish.js';
import { onPuback, onPubrel, onUnexpectedAck } from './acks.js';
import { onSubscribe } from './subscribe.js';
import { onUnsubscribe } from './unsubscribe.js';
import { onPingreq } from './pingreq.js';
import { onDisconnect } from './disconnect.js';

type Handler = (c: Connection, p: never) => void;

/** Packets a client may send after CONNECT; any other kind is a protocol error. */
const HANDLERS: Partial<Record<Packet['cmd'], Handler>> = {
  publish: onPublish,
  puback: onPuback,
  pubrec: onUnexpectedAck,
  pubrel: onPubrel,
  pubcomp: onUnexpectedAck,
  subscribe: onSubscribe,
  unsubscribe: onUnsubscribe,
  pingreq: onPingreq,
  disconnect: onDisconnect,
};

interface AckSlot {
  buf: Buffer | undefined;
  /** Counts against the Receive Maximum until written (a PUBACK or the PUBREC of a new message). */
  readonly inflight: boolean;
}

export class Connection implements SessionConnection, HeldConnection {
  state: 'new' | 'authenticating' | 'open' | 'closed' = 'new';
  version: ProtocolVersion = 4;
  vehicle: Vehicle | undefined;
  session: Session | undefined;
  /** The secret hash this connection authenticated with (none for a client certificate). */
  secretHash: Buffer | undefined;
  keepaliveMs = 0;
  lastRx = Date.now();
  readonly openedAt = Date.now();
  clientReceiveMaximum = 65_535;
  clientMaxPacket = Infinity;
  /** MQTT 5 Request Problem Information (§3.1.2.11.7): 0 → no reason strings on acks. */
  problemInfo = true;
  aliases: Map<number, string> | undefined;
  /** The car's own telemetry and command-ack topics, spelled once per connection, not per PUBLISH. */
  topics: { readonly telemetry: string; readonly ack: string } | undefined;
  /** The VIN the CONNECT claims (client id, when it has a VIN's shape): for the keyed reference in logs. */
  claimedVin: string | undefined;
  private readonly parser: Parser;
  private readonly scanner: PacketLengthScanner;
  private queued: Packet[] | undefined;
  /** The remaining lengths of what waits in `queued` once the connection is open. */
  private queuedBytes = 0;
  /** Waits in the endpoint's line for room under limits.maxUnacknowledgedTotal. */
  private awaitingRoom = false;
  private acks: AckSlot[] = [];
  private inflight = 0;
  private flushScheduled = false;
  private paused = false;

  constructor(
    readonly ep: Endpoint,
    readonly socket: Socket,
    readonly peer: PeerIdentity | undefined,
    /** Decided at accept (connection cap, per-address rate): the CONNECT is answered with it. */
    readonly preRefusal: ConnectRefusal | undefined,
    private readonly onClosed: (c: Connection) => void,
  ) {
    this.scanner = new PacketLengthScanner(ep.limits.maxPacketBytes, ep.limits.maxConnectBytes);
    this.parser = mqttPacket.parser();
    this.parser.on('packet', (p: Packet) => this.onPacket(p));
    this.parser.on('error', (err: Error) => this.onParseError(err));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.closed());
  }

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    try {
      this.scanner.scan(chunk);
    } catch (err) {
      const first = this.scanner.seen <= 1 && this.state === 'new';
      const reason =
        err instanceof PacketTooLargeError ? (first ? 'connect-too-large' : 'packet-too-large') : 'malformed';
      this.ep.reject(reason, { message: (err as Error).message });
      // MQTT 5 §3.2.2.3.6: a packet above the advertised Maximum Packet Size → DISCONNECT 0x95.
      return this.disconnect(reason === 'packet-too-large' ? RC.packetTooLarge : RC.malformed);
    }
    this.parser.parse(chunk);
  }

  private onParseError(err: Error): void {
    if (this.state === 'closed') return;
    if (this.state === 'new' && err.message === 'Invalid protocol version') {
      // MQTT 5 §3.1.2.2: a level this server does not take gets CONNACK 0x84, then the close.
      this.ep.reject('unsupported-version');
      return this.end(UNSUPPORTED_VERSION_V5);
    }
    // [MQTT-4.8.0-1]: a malformed packet closes the connection (MQTT 5: DISCONNECT 0x81 first).
    this.ep.reject('malformed', { message: err.message });
    this.disconnect(RC.malformed);
  }

  private onPacket(p: Packet): void {
    if (this.state === 'closed') return;
    if (this.queued) return this.hold(p);
    if (this.state === 'new') {
      // [MQTT-3.1.0-1]: the first packet from the client MUST be a CONNECT.
      if (p.cmd !== 'connect') {
        this.ep.reject('not-connected');
        return this.destroy();
      }
      this.state = 'authenticating';
      this.queued = [];
      this.pause();
      onConnect(this, p);
      return;
    }
    if (p.cmd === 'publish') {
      // Decoded, it would hold ~8 KB until its commit; as a packet, its bytes. Its PUBACK is
      // withheld until it is handled, in its turn, so nothing is refused and nothing lost.
      // (An MQTT 5 QoS 1/2 one past the Receive Maximum goes on to onPublish: DISCONNECT 0x93.)
      if (this.inflight >= this.ep.limits.receiveMaximum && (this.version !== 5 || p.qos === 0)) {
        this.queued = [];
        return this.hold(p);
      }
      if (p.qos > 0 && this.ep.unacknowledged >= this.ep.limits.maxUnacknowledgedTotal) {
        this.queued = [];
        this.awaitingRoom = true;
        this.ep.holdForRoom(this);
        return this.hold(p);
      }
    }
    const handler = HANDLERS[p.cmd];
    if (!handler) {
      // A second CONNECT [MQTT-3.1.0-2], or a packet only a server sends.
      return this.protocolError('protocol-error', `unexpected ${p.cmd.toUpperCase()}`);
    }
    handler(this, p as never);
  }

  /** CONNECT accepted (CONNACK written): run what was pipelined behind it, then read on. */
  opened(): void {
    this.state = 'open';
    this.release();
  }

  /** Room under limits.maxUnacknowledgedTotal (or the CONNECT accepted): handles what waited. */
  release(): void {
    this.awaitingRoom = false;
    this.drain();
  }

  /** Handles, in order, what waited in `queued` (held again at once if a limit is met again), then reads on. */
  private drain(): void {
    if (this.state !== 'open') return;
    const queued = this.queued ?? [];
    this.queued = undefined;
    this.queuedBytes = 0;
    for (const p of queued) this.onPacket(p);
    this.flow();
  }

  /**
   * A packet read while PUBLISHes wait. Before the CONNECT is accepted everything waits (the
   * socket is paused). After it, PINGREQ and the acknowledgement packets are handled now: the car
   * cannot have acknowledged what is still waiting, and none of them takes a place in the
   * in-flight window. Anything else waits behind the PUBLISHes, in order.
   */
  private hold(p: Packet): void {
    const queued = this.queued!;
    if (this.state === 'open') {
      const handler =
        p.cmd === 'pingreq' || p.cmd === 'puback' || p.cmd === 'pubrel' || p.cmd === 'pubrec' || p.cmd === 'pubcomp'
          ? HANDLERS[p.cmd]
          : undefined;
      if (handler) return handler(this, p as never);
      this.queuedBytes += p.length ?? 0;
    }
    queued.push(p);
    this.flow();
  }

  /** Refuses the CONNECT with the CONNACK its protocol version understands, then closes. */
  refuseConnect(kind: ConnectRefusal, reason: string = kind, detail: Record<string, unknown> = {}): void {
    this.ep.reject(reason, { vehicle: this.ref(), ...detail });
    const r = CONNECT_REFUSALS[kind];
    this.end(
      encode(
        this.version === 5
          ? { cmd: 'connack', sessionPresent: false, reasonCode: r.v5, properties: { reasonString: r.text } }
          : { cmd: 'connack', sessionPresent: false, returnCode: r.v4 },
        this.version,
      ),
    );
  }

  /** A protocol violation after CONNECT: MQTT 5 gets a DISCONNECT with the reason, then the close. */
  protocolError(reason: string, text: string, rc: number = RC.protocolError): void {
    this.ep.reject(reason, { vehicle: this.ref() });
    this.disconnect(rc, text);
  }

  /** Closes the connection; MQTT 5 first gets DISCONNECT `rc` (§3.14) once CONNECT was read. */
  disconnect(rc: number, text?: string): void {
    if (this.state === 'closed') return;
    if (this.version === 5 && this.state === 'open') {
      const props = text && this.problemInfo ? { properties: { reasonString: text } } : {};
      return this.end(encode({ cmd: 'disconnect', reasonCode: rc, ...props }, 5));
    }
    this.destroy();
  }

  /** The car's keyed reference for a log line (src/vehicle-ref.ts): never its VIN. */
  ref(): string | undefined {
    const vin = this.vehicle?.vin ?? this.claimedVin;
    return vin === undefined ? undefined : this.ep.deps.intake.vehicleRef(vin);
  }

  takenOver(): void {
    this.disconnect(RC.sessionTakenOver, 'another connection took this session over');
  }

  write(buf: Buffer): void {
    if (this.state !== 'closed') this.socket.write(buf);
  }

  sendCommand(packetId: number | undefined, cmd: OutboundCommand, dup: boolean): void {
    const { vin } = this.vehicle!;
    this.write(
      encode(
        {
          cmd: 'publish',
          topic: `vehicles/${vin}/commands`,
          payload: cmd.payload,
          qos: packetId === undefined ? 0 : 1,
          dup,
          retain: false,
          ...(packetId === undefined ? {} : { messageId: packetId }),
        },
        this.version,
      ),
    );
  }

  /** A place in the ordered acknowledgement queue. */
  ackSlot(inflight: boolean): AckSlot {
    const slot: AckSlot = { buf: undefined, inflight };
    this.acks.push(slot);
    if (inflight) {
      this.inflight += 1;
      this.ep.unacknowledged += 1;
    }
    this.flow();
    return slot;
  }

  /** The slot's acknowledgement is ready; it leaves with every ready one before it, in one write. */
  fill(slot: AckSlot, buf: Buffer): void {
    slot.buf = buf;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After every commit callback of this turn has run: one write for all of them.
    setImmediate(() => this.flushAcks());
  }

  get inflightCount(): number {
    return this.inflight;
  }

  private flushAcks(): void {
    this.flushScheduled = false;
    let n = 0;
    while (n < this.acks.length && this.acks[n]!.buf !== undefined) n += 1;
    if (n === 0) return;
    const ready = this.acks.splice(0, n);
    let freed = 0;
    for (const s of ready) if (s.inflight) freed += 1;
    this.inflight -= freed;
    this.ep.unacknowledged -= freed;
    this.write(n === 1 ? ready[0]!.buf! : Buffer.concat(ready.map((s) => s.buf!)));
    this.flow();
    if (freed > 0) this.ep.roomFreed();
  }

  /**
   * Lets what waits go on once the car is under the Receive Maximum (and not in the line for
   * room); reads unless the CONNECT is being checked or what waits passes limits.maxPacketBytes.
   */
  private flow(): void {
    const { limits } = this.ep;
    if (this.queued !== undefined) {
      if (this.state === 'open' && !this.awaitingRoom && this.inflight < limits.receiveMaximum) return this.drain();
    }
    const hold = this.state !== 'open' || (this.queued !== undefined && this.queuedBytes > limits.maxPacketBytes);
    if (hold && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!hold && this.paused) {
      this.paused = false;
      // The car's packets were not read meanwhile, by the server's choice: a fresh keepalive period.
      this.lastRx = Date.now();
      this.socket.resume();
    }
  }

  /** Not read by the server's choice (server.ts skips it in the keepalive sweep). */
  get pausedByServer(): boolean {
    return this.paused;
  }

  private pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  /** Writes `last` and closes (a CONNACK refusal, a DISCONNECT). */
  end(last: Buffer): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.socket.end(last);
    // A peer that never reads must not hold the socket open.
    setTimeout(() => this.socket.destroy(), 1_000).unref();
    this.closed();
  }

  destroy(): void {
    this.state = 'closed';
    this.socket.destroy();
    this.closed();
  }

  private wasClosed = false;
  private closed(): void {
    this.state = 'closed';
    if (this.wasClosed) return;
    this.wasClosed = true;
    this.queued = undefined;
    this.queuedBytes = 0;
    this.acks = [];
    // What it had unacknowledged no longer counts against the cap (its records still commit, or
    // are pushed back within a second: the car resends them).
    this.ep.unacknowledged -= this.inflight;
    const freed = this.inflight > 0;
    this.inflight = 0;
    this.parser.removeAllListeners('packet');
    this.onClosed(this);
    if (freed) this.ep.roomFreed();
  }
}
