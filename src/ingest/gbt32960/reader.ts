/**
 * Bounds-checked big-endian reads over a data unit, and the standard's value conventions:
 * 0xFE / 0xFFFE / 0xFFFFFFFE mean "abnormal" and 0xFF / 0xFFFF / 0xFFFFFFFF "invalid"
 * (2016 §7.2.3, 2025 §7.2.4: "0xFE 表示异常，0xFF 表示无效"). Both mean the value is absent:
 * `value()` returns undefined for them, and for a raw value above the field's valid range.
 */

export class UnitError extends Error {}

export interface Scale {
  /** Largest valid raw value (the standard's 有效值范围). */
  readonly max?: number;
  readonly factor?: number;
  /** Added after the factor: physical = raw × factor + offset. */
  readonly offset?: number;
  /** Digits kept after scaling (binary fractions of 0.1 are rounded away). */
  readonly digits?: number;
}

export class Reader {
  at = 0;
  constructor(
    readonly buf: Buffer,
    readonly end = buf.length,
  ) {}

  get left(): number {
    return this.end - this.at;
  }

  need(n: number, what: string): void {
    if (this.at + n > this.end) throw new UnitError(`${what}: the data unit ends inside it`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.at++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }

  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }

  /** Fixed-width ASCII (ICCID, battery codes): visible characters only, trailing NUL/space trimmed. */
  ascii(n: number, what: string): string {
    const b = this.bytes(n, what);
    const s = b.toString('latin1').replace(/[\0 ]+$/, '');
    if (!/^[\x21-\x7e]*$/.test(s)) throw new UnitError(`${what}: not printable ASCII`);
    return s;
  }

  /** A scaled BYTE/WORD/DWORD; undefined when abnormal, invalid or out of range. */
  value(size: 1 | 2 | 4, what: string, s: Scale = {}): number | undefined {
    const raw = size === 1 ? this.u8(what) : size === 2 ? this.u16(what) : this.u32(what);
    return scaled(raw, size, s);
  }

  /** An enumerated BYTE: undefined unless it is one of `allowed`. */
  code<T extends number>(what: string, allowed: readonly T[]): T | undefined {
    const v = this.u8(what);
    return (allowed as readonly number[]).includes(v) ? (v as T) : undefined;
  }
}

export function scaled(raw: number, size: 1 | 2 | 4, s: Scale = {}): number | undefined {
  const top = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  if (raw === top || raw === top - 1) return undefined;
  if (s.max !== undefined && raw > s.max) return undefined;
  const v = raw * (s.factor ?? 1) + (s.offset ?? 0);
  return s.digits === undefined ? v : round(v, s.digits);
}

export function round(v: number, digits: number): number {
  const p = 10 ** digits;
  return Math.round(v * p) / p;
}

/**
 * Time (2016 §6.4 table 5): year − 2000, month, day, hour, minute, second, in GMT+8 (Beijing
 * time, as the standard says). Returns ms since 1970 (UTC); a date that does not exist is refused.
 */
export function readTime(r: Reader, what = 'time'): number {
  const b = r.bytes(6, what);
  const [y, mo, d, h, mi, s] = [b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!];
  if (y > 99 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
    throw new UnitError(`${what}: not a valid date and time`);
  const ms = Date.UTC(2000 + y, mo - 1, d, h, mi, s);
  if (new Date(ms).getUTCDate() !== d) throw new UnitError(`${what}: not a valid date and time`);
  return ms - 8 * 3_600_000;
}

export function encodeTime(ms: number): Buffer {
  const t = new Date(ms + 8 * 3_600_000);
  return Buffer.from([
    t.getUTCFullYear() - 2000,
    t.getUTCMonth() + 1,
    t.getUTCDate(),
    t.getUTCHours(),
    t.getUTCMinutes(),
    t.getUTCSeconds(),
  ]);
}
