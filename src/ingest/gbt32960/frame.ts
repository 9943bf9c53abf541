/**
 * GB/T 32960.3 frame (2016 §6.2 table 2; 2025 §6.2 table 2):
 *
 *   start (2) | command (1) | response flag (1) | VIN (17) | encryption (1) | length (2) | data | BCC (1)
 *
 * The start is `##` (0x23 0x23) in the 2016 edition and `$$` (0x24 0x24) in the 2025 edition;
 * every WORD and DWORD is big-endian; the BCC is the XOR of every byte from the command to the
 * last data byte (§6.2: "校验码 … 从命令单元的第一个字节开始，同后一字节异或，直到校验码前一字节").
 *
 * `parseFrame` takes exactly one frame and refuses anything else with a reason (a code, never
 * a value: reasons are logged). The stream framer (framer.ts) finds frame boundaries.
 */

export type Edition = 2016 | 2025;

export const START: Readonly<Record<Edition, number>> = { 2016: 0x23, 2025: 0x24 };
/** start 2 + command 1 + flag 1 + VIN 17 + encryption 1 + length 2. */
export const HEADER_BYTES = 24;
/** §6.2: the data unit length is 0..65531. */
export const MAX_DATA_BYTES = 65_531;
export const MAX_FRAME_BYTES = HEADER_BYTES + MAX_DATA_BYTES + 1;

/** Command identifiers (2016 §6.3.1 table 3; 2025 adds 0x09..0x0B). */
export const CMD = {
  vehicleLogin: 0x01,
  realtime: 0x02,
  reissue: 0x03,
  vehicleLogout: 0x04,
  platformLogin: 0x05,
  platformLogout: 0x06,
  heartbeat: 0x07,
  timeCalibration: 0x08,
  /** 2025 only: security chip activation and its answer, data key exchange. */
  activation: 0x09,
  activationResponse: 0x0a,
  keyExchange: 0x0b,
  query: 0x80,
  set: 0x81,
  control: 0x82,
} as const;

export const COMMAND_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(CMD).map(([k, v]) => [v, k]),
);

/**
 * Response flags (2016 §6.3.2 table 4; the 2025 edition adds 0x05..0x07). 0xFE marks a
 * command (a frame that expects an answer), the others are answers to one.
 */
export const FLAG = {
  success: 0x01,
  error: 0x02,
  vinDuplicate: 0x03,
  vinUnknown: 0x04,
  /** 2025 only. */
  signatureInvalid: 0x05,
  structureInvalid: 0x06,
  decryptionFailed: 0x07,
  command: 0xfe,
} as const;

const FLAGS_2016: ReadonlySet<number> = new Set([0x01, 0x02, 0x03, 0x04, 0xfe]);
const FLAGS_2025: ReadonlySet<number> = new Set([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xfe]);

/** Data unit encryption (§6.2 table 2): 0x01 none, 0x02 RSA, 0x03 AES-128; 2025 adds SM2, SM4. */
export const ENCRYPTION = { none: 0x01, rsa: 0x02, aes128: 0x03, sm2: 0x04, sm4: 0x05, abnormal: 0xfe, invalid: 0xff };
const ENCRYPTIONS_2016: ReadonlySet<number> = new Set([0x01, 0x02, 0x03, 0xfe, 0xff]);
const ENCRYPTIONS_2025: ReadonlySet<number> = new Set([0x01, 0x02, 0x03, 0x04, 0x05, 0xfe, 0xff]);

export interface Frame {
  readonly edition: Edition;
  readonly command: number;
  readonly flag: number;
  /** 17 characters; the standard says VIN, or a unique identifier agreed with the platform. */
  readonly vin: string;
  readonly encryption: number;
  readonly data: Buffer;
  /** The whole frame as received (kept raw in the country). */
  readonly raw: Buffer;
}

/** Why bytes are not a frame; `code` is stable (counted and logged), never a value. */
export class FrameError extends Error {
  constructor(
    readonly code:
      | 'bad-start'
      | 'truncated'
      | 'trailing-bytes'
      | 'bad-length'
      | 'bad-bcc'
      | 'bad-flag'
      | 'bad-vin'
      | 'bad-encryption',
    message: string,
  ) {
    super(message);
  }
}

export function bcc(buf: Buffer, from: number, to: number): number {
  let x = 0;
  for (let i = from; i < to; i++) x ^= buf[i]!;
  return x;
}

export function editionOf(b0: number, b1: number): Edition | undefined {
  if (b0 !== b1) return undefined;
  return b0 === START[2016] ? 2016 : b0 === START[2025] ? 2025 : undefined;
}

/** 17 visible ASCII characters (0x21..0x7E); a VIN proper is checked at login (credentials.ts). */
const VIN_BYTE = (b: number) => b >= 0x21 && b <= 0x7e;

/**
 * Checks the header fields that do not depend on the data (start, flag, VIN, encryption,
 * length). Returns the data length, or throws FrameError. `buf` holds at least HEADER_BYTES.
 */
export function checkHeader(buf: Buffer, at = 0): { edition: Edition; length: number } {
  const edition = editionOf(buf[at]!, buf[at + 1]!);
  if (!edition) throw new FrameError('bad-start', 'a frame starts with ## (2016) or $$ (2025)');
  const flag = buf[at + 3]!;
  if (!(edition === 2016 ? FLAGS_2016 : FLAGS_2025).has(flag))
    throw new FrameError('bad-flag', 'response flag outside the standard table');
  for (let i = at + 4; i < at + 21; i++)
    if (!VIN_BYTE(buf[i]!)) throw new FrameError('bad-vin', 'VIN field is not 17 visible ASCII characters');
  if (!(edition === 2016 ? ENCRYPTIONS_2016 : ENCRYPTIONS_2025).has(buf[at + 21]!))
    throw new FrameError('bad-encryption', 'encryption type outside the standard table');
  const length = buf.readUInt16BE(at + 22);
  if (length > MAX_DATA_BYTES) throw new FrameError('bad-length', 'data unit length above 65531');
  return { edition, length };
}

/** Exactly one frame: header checks, declared length, BCC. */
export function parseFrame(buf: Buffer): Frame {
  if (buf.length < HEADER_BYTES + 1) {
    if (buf.length >= 2 && !editionOf(buf[0]!, buf[1]!))
      throw new FrameError('bad-start', 'a frame starts with ## (2016) or $$ (2025)');
    throw new FrameError('truncated', 'shorter than a frame header');
  }
  const { edition, length } = checkHeader(buf);
  const total = HEADER_BYTES + length + 1;
  if (buf.length < total) throw new FrameError('truncated', 'shorter than its declared data unit length');
  if (buf.length > total) throw new FrameError('trailing-bytes', 'bytes after the check code');
  if (bcc(buf, 2, total - 1) !== buf[total - 1]) throw new FrameError('bad-bcc', 'check code (BCC) does not match');
  return {
    edition,
    command: buf[2]!,
    flag: buf[3]!,
    vin: buf.toString('latin1', 4, 21),
    encryption: buf[21]!,
    data: buf.subarray(HEADER_BYTES, HEADER_BYTES + length),
    raw: buf,
  };
}

export interface FrameFields {
  readonly edition: Edition;
  readonly command: number;
  readonly flag: number;
  readonly vin: string;
  readonly encryption?: number;
  readonly data?: Buffer;
}

export function encodeFrame(f: FrameFields): Buffer {
  const data = f.data ?? Buffer.alloc(0);
  if (data.length > MAX_DATA_BYTES) throw new RangeError('data unit above 65531 bytes');
  if (f.vin.length !== 17) throw new RangeError('the VIN field is 17 characters');
  const out = Buffer.alloc(HEADER_BYTES + data.length + 1);
  out[0] = out[1] = START[f.edition];
  out[2] = f.command;
  out[3] = f.flag;
  out.write(f.vin, 4, 17, 'latin1');
  out[21] = f.encryption ?? ENCRYPTION.none;
  out.writeUInt16BE(data.length, 22);
  data.copy(out, HEADER_BYTES);
  out[out.length - 1] = bcc(out, 2, out.length - 1);
  return out;
}
