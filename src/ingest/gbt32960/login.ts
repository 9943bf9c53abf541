/**
 * Vehicle login (0x01) and logout (0x04) data units.
 *
 * Login, 2016 §7.1 table 6: time, login serial number (WORD, 1..65531, counting up per login
 * and restarting each day), ICCID (20 ASCII), number n of rechargeable energy storage (RESS)
 * subsystems (BYTE, 0..250), code length m (BYTE, 0..50), n codes of m characters.
 * Login, 2025 §7.1 table 6: time, serial, ICCID, n (BYTE), then for each subsystem the number
 * of packs (BYTE), then every pack's code as 24 ASCII characters.
 * Logout, both editions (§7.3): time, and the serial number of the login it ends.
 */
import type { Edition } from './frame.js';
import { Reader, readTime, UnitError } from './reader.js';

export interface Login {
  readonly time: number;
  readonly serial: number;
  readonly iccid: string;
  /** RESS codes, per subsystem (2016: one code per subsystem). */
  readonly ressCodes: readonly (readonly string[])[];
}

export interface Logout {
  readonly time: number;
  readonly serial: number;
}

const PACK_CODE_2025 = 24;

export function decodeLogin(data: Buffer, edition: Edition): Login {
  const r = new Reader(data);
  const time = readTime(r);
  const serial = r.u16('login serial number');
  if (serial < 1 || serial > 65_531) throw new UnitError('login serial number: outside 1..65531');
  const iccid = r.ascii(20, 'ICCID');
  const n = r.u8('RESS subsystem count');
  if (n > 250) throw new UnitError('RESS subsystem count: above 250');
  const ressCodes: string[][] = [];
  if (edition === 2016) {
    const m = r.u8('RESS code length');
    if (m > 50) throw new UnitError('RESS code length: above 50');
    for (let i = 0; i < n; i++) ressCodes.push([r.ascii(m, 'RESS code')]);
  } else {
    const packs: number[] = [];
    for (let i = 0; i < n; i++) packs.push(r.u8('packs per RESS subsystem'));
    for (const count of packs) {
      const codes: string[] = [];
      for (let j = 0; j < count; j++) codes.push(r.ascii(PACK_CODE_2025, 'RESS pack code'));
      ressCodes.push(codes);
    }
  }
  if (r.left !== 0) throw new UnitError('login: bytes after the last RESS code');
  return { time, serial, iccid, ressCodes };
}

export function decodeLogout(data: Buffer): Logout {
  const r = new Reader(data);
  const time = readTime(r);
  const serial = r.u16('logout serial number');
  if (r.left !== 0) throw new UnitError('logout: bytes after the serial number');
  return { time, serial };
}
