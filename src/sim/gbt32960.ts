/**
 * A simulated GB/T 32960 terminal: builds login, real-time/reissued report, heartbeat and
 * logout frames (2016 or 2025 edition) and sends them over TCP or TLS, pairing each answer
 * with its frame (answers come back in order). Used by `shekara simulate --protocol gbt32960`,
 * the tests and the bench.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { CMD, encodeFrame, FLAG, type Edition, type Frame } from '../ingest/gbt32960/frame.js';
import { Framer } from '../ingest/gbt32960/framer.js';
import { encodeTime } from '../ingest/gbt32960/reader.js';

export interface SimReading {
  readonly time: number;
  readonly speedKmh: number;
  readonly odometerKm: number;
  readonly socPercent: number;
  readonly latitude: number;
  readonly longitude: number;
  readonly cellVoltagesV: readonly number[];
}

const word = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const dword = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

export function loginData(edition: Edition, time: number, serial: number, iccid: string, codes: string[]): Buffer {
  const head = Buffer.concat([
    encodeTime(time),
    word(serial),
    Buffer.from(iccid.padEnd(20, '0').slice(0, 20), 'latin1'),
  ]);
  if (edition === 2016) {
    const m = codes[0]?.length ?? 0;
    return Buffer.concat([head, Buffer.from([codes.length, m]), Buffer.from(codes.join(''), 'latin1')]);
  }
  // 2025: one pack per subsystem here, codes of 24 characters.
  return Buffer.concat([
    head,
    Buffer.from([codes.length, ...codes.map(() => 1)]),
    Buffer.from(codes.map((c) => c.padEnd(24, '0').slice(0, 24)).join(''), 'latin1'),
  ]);
}

/** A report with whole-vehicle, position and cell-voltage blocks (and a 2025 signature block). */
export function reportData(edition: Edition, r: SimReading): Buffer {
  const vehicle = [
    Buffer.from([1, 3, 1]), // started, not charging, electric
    word(Math.round(r.speedKmh * 10)),
    dword(Math.round(r.odometerKm * 10)),
    word(3500), // 350.0 V
    word(edition === 2016 ? 10_050 : 30_050), // +5.0 A
    Buffer.from([Math.round(r.socPercent), 1, 0x0e]), // SOC, DC-DC working, gear D
    word(5000), // 5000 kΩ
    ...(edition === 2016 ? [Buffer.from([0, 0])] : []),
  ];
  const status = (r.latitude < 0 ? 0x02 : 0) | (r.longitude < 0 ? 0x04 : 0);
  const position = [
    Buffer.from([status, ...(edition === 2025 ? [1] : [])]),
    dword(Math.round(Math.abs(r.longitude) * 1e6)),
    dword(Math.round(Math.abs(r.latitude) * 1e6)),
  ];
  const cells = r.cellVoltagesV.map((v) => word(Math.round(v * 1000)));
  const pack =
    edition === 2016
      ? [Buffer.from([1, 1]), word(3500), word(10_050), word(cells.length), word(1), Buffer.from([cells.length])]
      : [Buffer.from([1, 1]), word(3500), word(30_050), word(cells.length)];
  return Buffer.concat([
    encodeTime(r.time),
    Buffer.from([0x01]),
    ...vehicle,
    Buffer.from([0x05]),
    ...position,
    Buffer.from([edition === 2016 ? 0x08 : 0x07]),
    ...pack,
    ...cells,
    // 2025: the signature block; an empty RSA signature (Shekara keeps, does not verify it).
    ...(edition === 2025 ? [Buffer.from([0xff, 0x02]), word(0), word(0)] : []),
  ]);
}

export interface SimTerminalOptions {
  readonly host: string;
  readonly port: number;
  readonly vin: string;
  readonly edition?: Edition;
  /** TLS with these options (client certificate, CA); plain TCP when absent. */
  readonly tls?: ConnectionOptions;
}

/** The ICCID every simulated terminal's SIM card has (the gateway pins it per VIN at the first login). */
export const SIM_ICCID = '89860000000000000001';

const serials = new Map<string, { day: string; serial: number }>();
/**
 * The login serial number a terminal sends next (§7.1: it counts up per login, 1..65531, and
 * restarts each day). A simulator process starts a day's count at a point proportional to the
 * time of day, so a later process (a restarted `shekara simulate`) continues above an earlier one.
 */
export function nextLoginSerial(vin: string, time: number): number {
  const beijing = time + 8 * 3_600_000;
  const day = new Date(beijing).toISOString().slice(0, 10);
  const last = serials.get(vin);
  const start = 1 + Math.floor(((beijing % 86_400_000) / 86_400_000) * 60_000);
  const serial = last?.day === day ? Math.min(65_531, Math.max(last.serial + 1, start)) : start;
  serials.set(vin, { day, serial });
  return serial;
}

/** One terminal's connection; `send` resolves with the answer to that frame (or rejects on close). */
export class SimTerminal {
  readonly edition: Edition;
  private readonly framer = new Framer();
  private waiting: { resolve: (f: Frame) => void; reject: (e: Error) => void }[] = [];
  /** Commands from the platform (flag 0xFE) not yet taken, and takers waiting for one. */
  private commands: Frame[] = [];
  private commandWaiting: { resolve: (f: Frame) => void; reject: (e: Error) => void }[] = [];
  private closedErr: Error | undefined;

  private constructor(
    readonly socket: Socket,
    readonly opts: SimTerminalOptions,
  ) {
    this.edition = opts.edition ?? 2016;
    // Nagle off, as the gateway does on its side: a terminal's frames leave when written.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.framer.push(chunk)) {
        if (e.kind !== 'frame') continue;
        if (e.frame.flag !== FLAG.command) this.waiting.shift()?.resolve(e.frame);
        else if (this.commandWaiting.length > 0) this.commandWaiting.shift()!.resolve(e.frame);
        else this.commands.push(e.frame);
      }
    });
    const fail = (err?: Error) => {
      this.closedErr ??= err ?? new Error('connection closed');
      for (const w of [...this.waiting.splice(0), ...this.commandWaiting.splice(0)]) w.reject(this.closedErr);
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
  }

  static connect(opts: SimTerminalOptions): Promise<SimTerminal> {
    return new Promise((resolve, reject) => {
      const socket = opts.tls
        ? tlsConnect({ host: opts.host, port: opts.port, ...opts.tls }, () => resolve(new SimTerminal(socket, opts)))
        : tcpConnect({ host: opts.host, port: opts.port }, () => resolve(new SimTerminal(socket, opts)));
      socket.once('error', reject);
    });
  }

  /** Sends raw bytes (tests: split frames, garbage) without waiting for an answer. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next command the platform sends down (0x80 query, 0x81 set, 0x82 control). */
  nextCommand(): Promise<Frame> {
    const queued = this.commands.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedErr) return Promise.reject(this.closedErr);
    return new Promise((resolve, reject) => this.commandWaiting.push({ resolve, reject }));
  }

  /** Answers a platform command; the data unit starts with the command's time unless given. */
  answerCommand(f: Frame, flag: number, data: Buffer = f.data.subarray(0, 6)): void {
    this.socket.write(encodeFrame({ edition: f.edition, command: f.command, flag, vin: this.opts.vin, data }));
  }

  /** Expects one more answer without sending (for frames written with `write`). */
  nextAnswer(): Promise<Frame> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  send(command: number, data: Buffer = Buffer.alloc(0)): Promise<Frame> {
    const answer = this.nextAnswer();
    this.socket.write(this.frame(command, data));
    return answer;
  }

  frame(command: number, data: Buffer = Buffer.alloc(0)): Buffer {
    return encodeFrame({ edition: this.edition, command, flag: FLAG.command, vin: this.opts.vin, data });
  }

  /** A vehicle login; without `serial`, the next of this VIN's day (nextLoginSerial), as a real terminal counts. */
  login(serial?: number, time = Date.now(), iccid = SIM_ICCID): Promise<Frame> {
    return this.send(
      CMD.vehicleLogin,
      loginData(this.edition, time, serial ?? nextLoginSerial(this.opts.vin, time), iccid, [
        'PACK000000000000000000001',
      ]),
    );
  }

  /** Resolves once the socket has closed (the gateway ended it, or close() was called). */
  closed(): Promise<void> {
    if (this.socket.destroyed || this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  report(r: SimReading, reissued = false): Promise<Frame> {
    return this.send(reissued ? CMD.reissue : CMD.realtime, reportData(this.edition, r));
  }

  heartbeat(): Promise<Frame> {
    return this.send(CMD.heartbeat);
  }

  logout(serial = 1, time = Date.now()): Promise<Frame> {
    return this.send(CMD.vehicleLogout, Buffer.concat([encodeTime(time), word(serial)]));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A plausible reading for car `i` at `time` (whole seconds: the protocol's resolution). */
export function simReading(i: number, time: number, cells = 96): SimReading {
  return {
    time: Math.floor(time / 1000) * 1000,
    speedKmh: 40 + (i % 60),
    odometerKm: 12_000 + i,
    socPercent: 50 + (i % 50),
    latitude: 43.2389 + (i % 100) / 1000,
    longitude: 76.8897 + (i % 100) / 1000,
    cellVoltagesV: Array.from({ length: cells }, (_, k) => 3.7 + (k % 10) / 1000),
  };
}
