/**
 * One car's GB/T 32960 socket: bytes → framer → one handler per command (the dispatch table
 * below). The first frame MUST be a vehicle login (§7.1: the terminal logs in before it sends
 * data); from then on every frame MUST carry the VIN the login bound, or the connection closes.
 *
 * Durability: a success answer to a real-time or reissued report MUST NOT be written before
 * intake.accept has resolved (the record durable in the local store). A report whose data unit
 * does not decode is stored in quarantine, then answered with the error flag. Answers leave in
 * the order the frames arrived, each only when its own is ready; with `maxInflight` reports
 * unanswered, reading pauses. A car that gets no answer resends, and reissues later (§6.5).
 */
import type { Socket } from 'node:net';
import { isShekaraError } from '../../errors.js';
import { VIN_RE } from '../credentials.js';
import type { PeerIdentity } from '../tls.js';
import type { Vehicle } from '../intake.js';
import { CMD, encodeFrame, FLAG, type Edition, type Frame } from './frame.js';
import { Framer } from './framer.js';
import { decodeMessage, type Message } from './message.js';
import type { Login } from './login.js';
import { LOGIN_REFUSALS, loginCheck } from './identity.js';
import { encodeTime, UnitError } from './reader.js';
import { reportPayload } from './signals.js';
import type { Gbt32960Endpoint } from './endpoint.js';
import { pushbackRetry } from '../pushback.js';
import { commandFrame, parseQueryAnswer } from './commands.js';
import { MAX_ACK_DETAIL } from '../command-ack.js';

interface Slot {
  buf: Buffer | undefined;
  /** Close once this answer is written (logout, refused login). */
  end: boolean;
  done: boolean;
}

export class Gbt32960Connection {
  state: 'new' | 'authenticating' | 'open' | 'closed' = 'new';
  vehicle: Vehicle | undefined;
  /** The edition the terminal logged in with: commands to it are framed in it. */
  edition: Edition | undefined;
  lastRx = Date.now();
  readonly openedAt = Date.now();
  private readonly framer = new Framer();
  private slots: Slot[] = [];
  private inflight = 0;
  private paused = false;
  /** Frames read while the login is checked. */
  private queued: Frame[] | undefined;
  /** An answer that ends the connection is waiting: nothing more is read. */
  private closing = false;
  /**
   * Downlink commands sent and not yet answered, per command byte, oldest first: a terminal
   * answers each with the same command byte, in order (§6.3.2), so the first one is answered.
   */
  private readonly downlink = new Map<number, string[]>();

  constructor(
    readonly ep: Gbt32960Endpoint,
    readonly socket: Socket,
    readonly peer: PeerIdentity | undefined,
    private readonly onClosed: (c: Gbt32960Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.closed());
  }

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    for (const e of this.framer.push(chunk)) {
      if (this.state === 'closed') return;
      // A frame that fails its checks is dropped (the car resends after its answer timeout);
      // the stream resynchronises on the next frame and the connection stays.
      if (e.kind === 'refused') this.ep.reject(`frame-${e.code}`, { vehicle: this.ref() });
      else if (this.queued) this.queued.push(e.frame);
      else this.onFrame(e.frame);
    }
  }

  private onFrame(f: Frame): void {
    if (this.closing) return;
    if (this.state === 'new') return this.onLogin(f);
    // Bound to one VIN: a frame naming another car is a forgery or a confused terminal.
    if (f.vin !== this.vehicle!.vin) return this.refuse('vin-mismatch', f, FLAG.error, true);
    // An answer from the car: to a downlink command we sent, or to nothing (counted, dropped).
    if (f.flag !== FLAG.command) return this.onAnswer(f);
    if (f.encryption !== 0x01)
      return this.refuse('encrypted', f, f.edition === 2025 ? FLAG.decryptionFailed : FLAG.error);
    let m: Message;
    try {
      m = decodeMessage(f);
    } catch (err) {
      if (!(err instanceof UnitError)) throw err;
      return this.quarantine(f, err.message);
    }
    const handler = HANDLERS[m.kind];
    handler(this, f, m as never);
  }

  /** §7.1 vehicle login: binds this connection to the VIN, once checked. */
  private onLogin(f: Frame): void {
    if (f.command !== CMD.vehicleLogin || f.flag !== FLAG.command)
      return this.refuse('not-logged-in', f, FLAG.error, true);
    const unknown = f.edition === 2025 ? FLAG.vinUnknown : FLAG.error;
    if (f.encryption !== 0x01)
      return this.refuse('encrypted', f, f.edition === 2025 ? FLAG.decryptionFailed : FLAG.error, true);
    let login: Login;
    try {
      login = (decodeMessage(f) as Extract<Message, { kind: 'login' }>).login;
    } catch (err) {
      if (!(err instanceof UnitError)) throw err;
      return this.refuse('login-malformed', f, f.edition === 2025 ? FLAG.structureInvalid : FLAG.error, true);
    }
    if (!VIN_RE.test(f.vin)) return this.refuse('bad-vin', f, unknown, true);
    if (this.peer) {
      // TLS: the client certificate is the credential; its CN names the one VIN it may log in as.
      if (!this.peer.presented) return this.refuse('certificate-required', f, FLAG.error, true);
      if (!this.peer.authorized)
        return this.refuse(`certificate-rejected:${this.peer.error ?? 'untrusted'}`, f, FLAG.error, true);
      if (this.peer.commonName !== f.vin) return this.refuse('certificate-not-vin', f, FLAG.error, true);
    }
    this.state = 'authenticating';
    this.queued = [];
    this.pause();
    const gen = this.ep.generation(f.vin);
    this.ep.deps
      .lookupVehicle(f.vin)
      .then(async (v) => {
        if (this.state === 'closed') return;
        if (!v) return this.refuse('vehicle-unregistered', f, unknown, true);
        // Revoked while the look-up was under way.
        if (this.ep.generation(f.vin) !== gen) return this.refuse('credentials-changed', f, unknown, true);
        // One connection per VIN: a second login is answered "VIN duplicate" (§6.3.2 table 4).
        if (!this.ep.bind(f.vin, this)) return this.refuse('vin-duplicate', f, FLAG.vinDuplicate, true);
        this.vehicle = { vin: v.vin, oem: v.oem };
        // Bound before the check, so a second connection cannot spend the logged-in car's serial
        // numbers. The ICCID pin and the serial count (identity.ts) are what the protocol offers
        // beyond the VIN; a refusal gets the error flag and is logged with the keyed reference.
        const verdict = await this.ep.deps.checkLogin(loginCheck(v.vin, login, this.ep.cfg.identity, Date.now()));
        // The socket may have closed while the store answered.
        if ((this.state as Gbt32960Connection['state']) === 'closed') return;
        if (verdict !== 'ok') return this.refuse(LOGIN_REFUSALS[verdict], f, FLAG.error, true);
        if (this.ep.generation(f.vin) !== gen) return this.refuse('credentials-changed', f, unknown, true);
        this.edition = f.edition;
        this.state = 'open';
        this.answer(this.slot(), f, FLAG.success, f.data.subarray(0, 6));
        // Logged in: the commands waiting for this car may go down now.
        this.ep.deps.onCommandSubscribed?.(v.vin);
        const queued = this.queued ?? [];
        this.queued = undefined;
        for (const q of queued) this.onFrame(q);
        this.resume();
      })
      .catch((err: unknown) => {
        this.ep.deps.log.error({ err, vehicle: this.ref() }, 'gbt32960: could not look the vehicle up');
        this.destroy();
      });
  }

  /**
   * Sends a guarded downlink command (already allowed and recorded by src/downlink) as its GB/T
   * frame; resolves once written. A command GB/T cannot or must not say (commands.ts) is refused
   * before it is logged as sent (server.ts `commandRefusal`); one that gets here all the same
   * (the terminal logged in again with another edition in between) is not written: the publish
   * fails and src/downlink logs it as unsent.
   */
  sendCommand(c: { id: string; type: string; params: Record<string, unknown> }, edition: Edition): Promise<void> {
    const vin = this.vehicle!.vin;
    const frame = commandFrame(c, edition, Date.now());
    if ('refused' in frame) return Promise.reject(new Error(`not sent over GB/T 32960: ${frame.refused}`));
    const pending = this.downlink.get(frame.command) ?? [];
    pending.push(c.id);
    this.downlink.set(frame.command, pending);
    const bytes = encodeFrame({ edition, command: frame.command, flag: FLAG.command, vin, data: frame.data });
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** The terminal's answer to a downlink command: success → "done", any error flag → "rejected". */
  private onAnswer(f: Frame): void {
    const id = this.downlink.get(f.command)?.shift();
    const ack = this.ep.deps.onCommandAck;
    if (id === undefined || !ack) return this.ep.reject('unexpected-answer', { vehicle: this.ref() });
    let detail: string | undefined;
    if (f.command === CMD.query && f.flag === FLAG.success) {
      try {
        detail = JSON.stringify(parseQueryAnswer(f.data, f.edition)).slice(0, MAX_ACK_DETAIL);
      } catch (err) {
        if (!(err instanceof UnitError)) throw err;
        detail = `answer not readable: ${err.message}`.slice(0, MAX_ACK_DETAIL);
      }
    }
    // The terminal refused it (§6.3.2 answer flag): the egress log says so, in Shekara's words.
    const reason =
      f.flag === FLAG.success ? undefined : `terminal answered with flag 0x${f.flag.toString(16).padStart(2, '0')}`;
    detail ??= reason;
    const status = f.flag === FLAG.success ? 'done' : 'rejected';
    ack(this.vehicle!.vin, {
      id,
      status,
      ...(detail !== undefined ? { detail } : {}),
      ...(reason !== undefined ? { reason } : {}),
    }).catch((err: unknown) =>
      this.ep.deps.log.error({ err, vehicle: this.ref() }, 'gbt32960: could not record a command answer'),
    );
  }

  /** Real-time (0x02) or reissued (0x03) report: answered success only once it is stored. */
  onReport(f: Frame, m: Extract<Message, { kind: 'report' }>): void {
    const vin = this.vehicle!.vin;
    if (!this.ep.deps.rate.take(vin)) return this.refuse('rate-limit-exceeded', f, FLAG.error);
    const payload = Buffer.from(JSON.stringify(reportPayload(m.report, f.edition, m.reissued, f.raw)));
    this.store(f, payload, undefined);
  }

  /** A data unit that does not decode: kept in quarantine (raw frame), then answered with the error flag. */
  private quarantine(f: Frame, reason: string): void {
    this.ep.reject('data-unit-malformed', { vehicle: this.ref() });
    this.store(f, f.raw, reason);
  }

  /**
   * Stores, then answers in order. While the store pushes back the answer is withheld and the
   * intake retries the same decoded record (src/ingest/pushback.ts); a push-back that outlasts
   * the wait is counted in aggregate and the connection dropped so the car reissues the report.
   */
  private store(f: Frame, payload: Buffer, quarantineReason: string | undefined): void {
    const { intake, log } = this.ep.deps;
    const slot = this.slot(true);
    const error = f.edition === 2025 ? FLAG.structureInvalid : FLAG.error;
    const retry = pushbackRetry(() => this.state === 'open');
    intake.accept(this.vehicle!, 'gbt32960', payload, { quarantineReason, retry }).then(
      (r) => this.answer(slot, f, r.quarantined ? error : FLAG.success, f.data.subarray(0, 6)),
      (err: unknown) => {
        if (isShekaraError(err, 'SHK_INGEST_BACKPRESSURE')) this.ep.reject('backpressure', { vehicle: this.ref() });
        else
          log.error(
            { err, vehicle: this.ref() },
            'gbt32960: could not store a report; disconnecting so the car reissues it',
          );
        this.destroy();
      },
    );
  }

  /** An answer frame to `f` with `flag`, in this connection's answer order. */
  answer(slot: Slot, f: Frame, flag: number, data: Buffer, end = false): void {
    slot.buf = encodeFrame({ edition: f.edition, command: f.command, flag, vin: f.vin, data });
    slot.end = end;
    if (end) this.closing = true;
    this.flush();
  }

  slot(counts = false): Slot {
    const s: Slot = { buf: undefined, end: false, done: false };
    this.slots.push(s);
    if (counts) {
      this.inflight += 1;
      if (this.inflight >= this.ep.cfg.maxInflight) this.pause();
    }
    (s as Slot & { counts: boolean }).counts = counts;
    return s;
  }

  private flush(): void {
    const out: Buffer[] = [];
    let end = false;
    while (this.slots.length > 0 && this.slots[0]!.buf) {
      const s = this.slots.shift()! as Slot & { counts: boolean };
      out.push(s.buf!);
      if (s.counts) this.inflight -= 1;
      if (s.end) {
        end = true;
        break;
      }
    }
    if (out.length > 0 && this.state !== 'closed') this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    if (end) return this.end();
    if (this.state === 'open') this.resume();
  }

  /** Answers `f` with an error flag (in order) and counts the refusal; `close` ends the connection after it. */
  refuse(reason: string, f: Frame, flag: number, close = false): void {
    this.ep.reject(reason, { vehicle: this.ref(f.vin) });
    if (close && this.state !== 'open') {
      this.state = 'closed';
      this.socket.end(
        encodeFrame({ edition: f.edition, command: f.command, flag, vin: f.vin, data: f.data.subarray(0, 6) }),
      );
      return;
    }
    this.answer(this.slot(), f, flag, f.data.subarray(0, 6), close);
  }

  private pause(): void {
    if (!this.paused) this.socket.pause();
    this.paused = true;
  }

  /** Reads on, unless the login is still being checked or too many answers are outstanding. */
  private resume(): void {
    if (!this.paused || this.queued || this.inflight >= this.ep.cfg.maxInflight) return;
    this.socket.resume();
    this.paused = false;
  }

  end(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.socket.end();
  }

  destroy(): void {
    this.state = 'closed';
    this.socket.destroy();
  }

  private closed(): void {
    this.state = 'closed';
    this.onClosed(this);
  }

  /** The keyed reference that log lines carry instead of a VIN. */
  ref(vin = this.vehicle?.vin): string | undefined {
    return vin && VIN_RE.test(vin) ? this.ep.deps.intake.vehicleRef(vin) : undefined;
  }
}

type Handler = (c: Gbt32960Connection, f: Frame, m: never) => void;

/** Commands a logged-in car may send (§6.3.1 table 3), each with its answer. */
const HANDLERS: Record<Message['kind'], Handler> = {
  report: (c, f, m: Extract<Message, { kind: 'report' }>) => c.onReport(f, m),
  // §7.6: the platform answers a heartbeat; its data unit is empty.
  heartbeat: (c, f) => c.answer(c.slot(), f, FLAG.success, Buffer.alloc(0)),
  // §7.7: the answer carries the platform's time (GMT+8).
  'time-calibration': (c, f) => c.answer(c.slot(), f, FLAG.success, encodeTime(Date.now())),
  // §7.3: logout answered, then the link closes.
  logout: (c, f) => c.answer(c.slot(), f, FLAG.success, f.data.subarray(0, 6), true),
  // A second login on a bound connection, a platform login, activation, key exchange, downlink
  // commands sent up: not what a car does here.
  login: (c, f) => c.refuse('second-login', f, FLAG.error),
  other: (c, f) => c.refuse('unsupported-command', f, FLAG.error),
};
