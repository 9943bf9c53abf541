/**
 * A car at the byte level: hand-built MQTT packets over a real TCP socket, and the gateway's
 * answers parsed one by one — for what a client library would not send (a duplicate QoS 2
 * PUBLISH, packet id 0, a pipelined burst) or would hide (the exact CONNACK code).
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import mqttPacket, { type IConnackPacket, type Packet } from 'mqtt-packet';

export type Version = 4 | 5;

/** An MQTT remaining length [MQTT-2.2.3]: 7 bits a byte, the high bit saying another byte follows. */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A car's CONNECT: its VIN as client id and username, its secret as password. */
export const connectPacket = (
  car: { vin: string; secret: string },
  version: Version,
  extra: Partial<mqttPacket.IConnectPacket> = {},
): mqttPacket.IConnectPacket => ({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: version,
  clientId: car.vin,
  username: car.vin,
  password: Buffer.from(car.secret),
  keepalive: 30,
  clean: true,
  ...extra,
});

export class RawCar {
  private readonly got: Packet[] = [];
  private waiting: ((p: Packet | undefined) => void) | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: Socket,
    readonly version: Version,
  ) {
    const parser = mqttPacket.parser({ protocolVersion: version });
    parser.on('packet', (p: Packet) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(p);
      } else this.got.push(p);
    });
    socket.on('data', (d: Buffer) => parser.parse(d));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.waiting?.(undefined);
        resolve();
      }),
    );
  }

  static async open(port: number, version: Version = 4): Promise<RawCar> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawCar(socket, version);
  }

  /** The same car over TLS (the MQTTS listener): `tls` carries the CA, and a client certificate if any. */
  static async openTls(port: number, version: Version, tls: ConnectionOptions): Promise<RawCar> {
    const socket = tlsConnect({ port, host: '127.0.0.1', ...tls });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return new RawCar(socket, version);
  }

  /** Writes packets (or raw bytes) in ONE socket write, as a pipelining car does. */
  send(...packets: (Packet | Buffer)[]): void {
    this.socket.write(
      Buffer.concat(
        packets.map((p) => (Buffer.isBuffer(p) ? p : mqttPacket.generate(p, { protocolVersion: this.version }))),
      ),
    );
  }

  /** The next packet from the gateway; undefined when it closed the connection instead. */
  next(ms = 5_000): Promise<Packet | undefined> {
    const queued = this.got.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no packet from the gateway within ${ms} ms`)), ms);
      this.waiting = (p) => {
        clearTimeout(t);
        resolve(p);
      };
    });
  }

  /** CONNECT as the car and return the CONNACK (or undefined when the socket was closed without one). */
  async connect(
    car: { vin: string; secret: string },
    extra: Partial<mqttPacket.IConnectPacket> = {},
  ): Promise<IConnackPacket | undefined> {
    this.send(connectPacket(car, this.version, extra));
    const p = await this.next();
    if (p && p.cmd !== 'connack') throw new Error(`expected CONNACK, got ${p.cmd}`);
    return p;
  }

  publish(topic: string, payload: string, qos: 0 | 1 | 2, messageId?: number, dup = false): Packet {
    return { cmd: 'publish', topic, payload: Buffer.from(payload), qos, dup, retain: false, messageId };
  }

  end(): void {
    this.socket.destroy();
  }
}

/** The CONNACK code whatever the version: 3.1.1 returnCode, 5.0 reasonCode. */
export const connackCode = (p: IConnackPacket | undefined): number | undefined => p?.returnCode ?? p?.reasonCode;
