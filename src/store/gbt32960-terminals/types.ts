/**
 * What a GB/T 32960 terminal's login must match, per VIN (docs/gbt32960.md "Identity binding"):
 * the ICCID of its SIM card, pinned when first seen, and the login serial number, which counts
 * up with each login and restarts each day (GB/T 32960.3-2016 §7.1 table 6: "1..65531, cycle of
 * one day"). Both stores (this folder: sqlite.ts, pg.ts) keep one row per VIN and apply
 * `judgeLogin` (rows.ts) in one transaction, so two logins racing on two instances cannot both
 * pass with the same serial.
 */

export interface Gbt32960Login {
  readonly vin: string;
  readonly iccid: string;
  /** The login's date, Beijing time (GMT+8, the frame's own zone), as YYYY-MM-DD. */
  readonly day: string;
  readonly serial: number;
  /** When Shekara received it (ms since 1970). */
  readonly at: number;
  /** Refuse a login whose ICCID is not the pinned one. */
  readonly pinIccid: boolean;
  /** Refuse a serial number not above the last accepted one of its day, and a day before the last. */
  readonly checkSerial: boolean;
}

export type Gbt32960LoginVerdict = 'ok' | 'iccid-mismatch' | 'serial-not-increasing';

export interface Gbt32960TerminalRow {
  /** null: the pin was cleared (a SIM swap); the next login's ICCID is pinned. */
  readonly iccid: string | null;
  readonly day: string;
  readonly serial: number;
}

export interface Gbt32960TerminalStore {
  /**
   * Checks a login against the VIN's pinned ICCID and its last accepted serial number and, when
   * it passes, records it (the first login pins its ICCID), in one transaction. A refused login
   * changes nothing.
   */
  checkGbt32960Login(l: Gbt32960Login): Promise<Gbt32960LoginVerdict>;
  /**
   * Clears the VIN's ICCID pin after a SIM swap (an operator action: admin API or CLI): the next
   * login's ICCID is pinned. The serial count stays, so a replayed login of the old card is still
   * refused. False when nothing was pinned (the terminal never logged in, or it was cleared).
   */
  clearGbt32960IccidPin(vin: string): Promise<boolean>;
}
