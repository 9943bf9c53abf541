/**
 * Downlink commands as GB/T 32960.3 frames: parameter query (0x80), parameter set (0x81) and
 * terminal control (0x82) (2016 §7.4–7.5 and appendix B tables B.10–B.17; 2025 §7.4–7.5, table
 * B.8). A guarded command (src/downlink/) of one of the types below becomes one frame; the
 * terminal's answer (same command, flag success or error) becomes the command's acknowledgement.
 *
 * Deny by default, in code whatever a policy allows: the platform addresses (0x04–0x06,
 * 0x0D–0x0F) are never set — a terminal re-pointed at another platform would send its data
 * around this gateway, out of the country; remote upgrade (0x01: firmware from a URL), factory
 * reset (0x04: restores the maker's platform address) and the sampling-inspection link (0x07: a
 * second platform connection) are never sent. Read-only parameters (versions, sampling state)
 * can be queried, not set.
 */
import type { Edition } from './frame.js';
import { CMD } from './frame.js';
import { encodeTime, Reader, UnitError } from './reader.js';

/** A command type Shekara knows how to say in GB/T 32960, with its frame. */
export const GBT32960_COMMAND_TYPES = [
  'gbt32960-query-parameters',
  'gbt32960-set-parameters',
  'remote-shutdown',
  'gbt32960-reset',
  'gbt32960-disconnect',
  'gbt32960-alarm',
] as const;

interface ParamSpec {
  readonly id: number;
  /** Wire width in bytes per edition; 0 = a string whose length is the parameter before it. */
  readonly bytes: Readonly<Record<Edition, 1 | 2 | 5 | 0>>;
  /** Valid raw range per edition (settable ones only). */
  readonly range?: Readonly<Record<Edition, readonly [number, number]>>;
  readonly settable: boolean;
}

const both = <T>(v: T): Record<Edition, T> => ({ 2016: v, 2025: v });

/**
 * Terminal parameters by the name an OEM uses (2016 table B.10, 2025 table B.8). Values are the
 * raw wire values; the units differ by edition where noted (docs/gbt32960.md "Downlink").
 */
export const PARAMETERS: Readonly<Record<string, ParamSpec>> = {
  localStoragePeriodMs: { id: 0x01, bytes: both(2), range: both([0, 60_000]), settable: true },
  /** 2016: WORD, 1–600 s; 2025: BYTE, 1–30 s. */
  reportIntervalSeconds: {
    id: 0x02,
    bytes: { 2016: 2, 2025: 1 },
    range: { 2016: [1, 600], 2025: [1, 30] },
    settable: true,
  },
  /** 2016: WORD, 0–60000 ms; 2025: BYTE, 0–1 s. */
  alarmReportInterval: {
    id: 0x03,
    bytes: { 2016: 2, 2025: 1 },
    range: { 2016: [0, 60_000], 2025: [0, 1] },
    settable: true,
  },
  platformDomain: { id: 0x05, bytes: both(0), settable: false },
  platformPort: { id: 0x06, bytes: both(2), settable: false },
  hardwareVersion: { id: 0x07, bytes: both(5), settable: false },
  firmwareVersion: { id: 0x08, bytes: both(5), settable: false },
  heartbeatIntervalSeconds: { id: 0x09, bytes: both(1), range: both([1, 240]), settable: true },
  terminalAnswerTimeoutSeconds: { id: 0x0a, bytes: both(2), range: both([1, 600]), settable: true },
  platformAnswerTimeoutSeconds: { id: 0x0b, bytes: both(2), range: both([1, 600]), settable: true },
  loginRetryIntervalMinutes: { id: 0x0c, bytes: both(1), range: both([1, 240]), settable: true },
  publicPlatformDomain: { id: 0x0e, bytes: both(0), settable: false },
  publicPlatformPort: { id: 0x0f, bytes: both(2), settable: false },
  samplingInspection: { id: 0x10, bytes: both(1), settable: false },
};
const BY_ID = new Map(Object.entries(PARAMETERS).map(([name, p]) => [p.id, { name, ...p }]));
/** The length parameter that precedes a domain string (0x04 before 0x05, 0x0D before 0x0E). */
const LENGTH_OF: Readonly<Record<number, number>> = { 0x05: 0x04, 0x0e: 0x0d };

/** Terminal control command ids (2016 table B.15). */
const CONTROL: Readonly<Record<string, number>> = {
  'remote-shutdown': 0x02,
  'gbt32960-reset': 0x03,
  'gbt32960-disconnect': 0x05,
  'gbt32960-alarm': 0x06,
};

export type CommandFrame = { readonly command: number; readonly data: Buffer } | { readonly refused: string };

/**
 * The frame for a guarded command, or why it cannot be said over GB/T 32960. `at` is the
 * command's time (GMT+8 on the wire), which the terminal's answer echoes.
 */
export function commandFrame(
  c: { readonly type: string; readonly params: Readonly<Record<string, unknown>> },
  edition: Edition,
  at: number,
): CommandFrame {
  const time = encodeTime(at);
  switch (c.type) {
    case 'gbt32960-query-parameters': {
      const names = String(c.params.parameters ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (names.length === 0) return { refused: 'name at least one parameter (params.parameters: "a,b")' };
      const ids: number[] = [];
      for (const n of names) {
        const p = PARAMETERS[n];
        if (!p) return { refused: `unknown parameter "${n}"` };
        // A domain is queried with its length parameter before it, as the answer carries both.
        if (LENGTH_OF[p.id] !== undefined) ids.push(LENGTH_OF[p.id]!);
        ids.push(p.id);
      }
      return { command: CMD.query, data: Buffer.concat([time, Buffer.from([ids.length, ...ids])]) };
    }
    case 'gbt32960-set-parameters': {
      const parts: Buffer[] = [];
      for (const [n, v] of Object.entries(c.params)) {
        const p = PARAMETERS[n];
        if (!p) return { refused: `unknown parameter "${n}"` };
        if (!p.settable) return { refused: `"${n}" is not set through Shekara` };
        const [lo, hi] = p.range![edition];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
          return { refused: `"${n}" must be an integer ${lo}..${hi} (${edition} edition)` };
        const b = Buffer.alloc(1 + p.bytes[edition]);
        b[0] = p.id;
        if (p.bytes[edition] === 1) b[1] = v;
        else b.writeUInt16BE(v, 1);
        parts.push(b);
      }
      if (parts.length === 0) return { refused: 'name at least one parameter to set' };
      return { command: CMD.set, data: Buffer.concat([time, Buffer.from([parts.length]), ...parts]) };
    }
    case 'gbt32960-alarm': {
      const level = c.params.level;
      if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > 255)
        return { refused: 'params.level must be an integer 0..255' };
      return { command: CMD.control, data: Buffer.concat([time, Buffer.from([CONTROL[c.type]!, level])]) };
    }
    default: {
      const id = CONTROL[c.type];
      if (id === undefined) return { refused: `"${c.type}" has no GB/T 32960 form` };
      return { command: CMD.control, data: Buffer.concat([time, Buffer.from([id])]) };
    }
  }
}

/**
 * The parameters in a terminal's answer to a query (time, count, then id + value each), by
 * name; strings as text, versions as hex. Refuses a malformed list (UnitError).
 */
export function parseQueryAnswer(data: Buffer, edition: Edition): Record<string, number | string> {
  const r = new Reader(data);
  r.bytes(6, 'time');
  const n = r.u8('parameter count');
  const out: Record<string, number | string> = {};
  let pendingLength = 0;
  for (let i = 0; i < n; i++) {
    const id = r.u8('parameter id');
    if (id === 0x04 || id === 0x0d) {
      pendingLength = r.u8('domain length');
      continue;
    }
    const p = BY_ID.get(id);
    if (!p) throw new UnitError(`parameter 0x${id.toString(16)}: unknown, its length cannot be known`);
    const width = p.bytes[edition];
    if (width === 0) out[p.name] = r.bytes(pendingLength, p.name).toString('latin1');
    else if (width === 1) out[p.name] = r.u8(p.name);
    else if (width === 2) out[p.name] = r.u16(p.name);
    else out[p.name] = r.bytes(5, p.name).toString('hex');
  }
  return out;
}
