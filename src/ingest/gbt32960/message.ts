/**
 * A frame's data unit, decoded by its command (the dispatch table of this channel). Answers
 * (flag ≠ 0xFE) carry only the time of the command they answer (§6.3.2), and downlink or
 * platform commands are not decoded here: the listener refuses them (connection.ts).
 */
import { CMD, COMMAND_NAMES, FLAG, type Frame } from './frame.js';
import { decodeLogin, decodeLogout, type Login, type Logout } from './login.js';
import { decodeReport, type Report } from './report.js';
import { UnitError } from './reader.js';

export type Message =
  | { readonly kind: 'login'; readonly login: Login }
  | { readonly kind: 'logout'; readonly logout: Logout }
  | { readonly kind: 'report'; readonly reissued: boolean; readonly report: Report }
  | { readonly kind: 'heartbeat' }
  | { readonly kind: 'time-calibration' }
  | { readonly kind: 'other'; readonly command: number };

export function decodeMessage(frame: Frame): Message {
  if (frame.flag !== FLAG.command) return { kind: 'other', command: frame.command };
  switch (frame.command) {
    case CMD.vehicleLogin:
      return { kind: 'login', login: decodeLogin(frame.data, frame.edition) };
    case CMD.vehicleLogout:
      return { kind: 'logout', logout: decodeLogout(frame.data) };
    case CMD.realtime:
    case CMD.reissue:
      return {
        kind: 'report',
        reissued: frame.command === CMD.reissue,
        report: decodeReport(frame.data, frame.edition),
      };
    case CMD.heartbeat:
      // §7.6: the heartbeat's data unit is empty.
      if (frame.data.length !== 0) throw new UnitError('heartbeat: the data unit is empty');
      return { kind: 'heartbeat' };
    case CMD.timeCalibration:
      // §7.7: the terminal's request is empty; the platform answers with its time.
      if (frame.data.length !== 0) throw new UnitError('time calibration: the data unit is empty');
      return { kind: 'time-calibration' };
    default:
      return { kind: 'other', command: frame.command };
  }
}

/** A frame as plain fields, for `shekara gbt32960 decode` (Buffers as hex, absent fields left out). */
export function describeFrame(frame: Frame): Record<string, unknown> {
  const head = {
    edition: frame.edition,
    command: `0x${hex2(frame.command)} ${COMMAND_NAMES[frame.command] ?? 'unknown'}`,
    flag: `0x${hex2(frame.flag)} ${FLAG_NAMES[frame.flag] ?? 'unknown'}`,
    vin: frame.vin,
    encryption: `0x${hex2(frame.encryption)}`,
    length: frame.data.length,
  };
  if (frame.encryption !== 0x01) return { ...head, data: frame.data.toString('hex'), note: 'encrypted: not decoded' };
  try {
    const m = decodeMessage(frame);
    return { ...head, message: plain(m) };
  } catch (err) {
    if (!(err instanceof UnitError)) throw err;
    return { ...head, data: frame.data.toString('hex'), refused: err.message };
  }
}

const FLAG_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(FLAG).map(([k, v]) => [v, k]));
const hex2 = (n: number) => n.toString(16).padStart(2, '0');

function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      out[k] = k === 'time' && typeof x === 'number' ? new Date(x).toISOString() : plain(x);
    }
    return out;
  }
  return v;
}
