/**
 * What both stores share about GB/T 32960 terminals: the columns a login is judged on, and the
 * judgement itself (the rule: ./types.ts). The DDL and the statements stay per dialect
 * (sqlite.ts, pg.ts): SQLite replaces the row under its one writer, PostgreSQL locks it.
 */
import type { Gbt32960Login, Gbt32960LoginVerdict, Gbt32960TerminalRow } from './types.js';

/** The `gbt32960_terminals` columns `judgeLogin` reads, named as a `Gbt32960TerminalRow`. */
export const TERMINAL_COLUMNS = 'iccid, login_day AS day, login_serial AS serial';

/** The verdict for a login given the VIN's row; the row to write when it passes. */
export function judgeLogin(
  row: Gbt32960TerminalRow | undefined,
  l: Gbt32960Login,
): { verdict: Gbt32960LoginVerdict; write?: Gbt32960TerminalRow } {
  const write = { iccid: l.iccid, day: l.day, serial: l.serial };
  if (!row) return { verdict: 'ok', write };
  if (l.pinIccid && row.iccid !== null && row.iccid !== l.iccid) return { verdict: 'iccid-mismatch' };
  // §7.1: the serial number counts up per login within a day. An equal or lower one on the same
  // day, or a login dated before the last one, is a replayed (or forged) login frame.
  if (l.checkSerial && (l.day < row.day || (l.day === row.day && l.serial <= row.serial)))
    return { verdict: 'serial-not-increasing' };
  // With pinning off the latest ICCID is kept, so turning it on pins the current card; a
  // cleared pin (null) takes this login's card.
  return { verdict: 'ok', write: { ...write, iccid: l.pinIccid ? (row.iccid ?? l.iccid) : l.iccid } };
}
