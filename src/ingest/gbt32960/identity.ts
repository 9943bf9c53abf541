/**
 * What a login is checked against beyond the VIN (docs/gbt32960.md "Identity binding"): the
 * ICCID the VIN is pinned to, and the login serial number, which counts up per login and
 * restarts each day (GB/T 32960.3-2016 §7.1 table 6). The store applies the rule
 * (src/store/gbt32960-terminals/); this names the day and the refusal reasons.
 */
import type { Gbt32960Config } from '../../config/schema.js';
import type { Gbt32960Login, Gbt32960LoginVerdict } from '../../store/gbt32960-terminals/types.js';
import type { Login } from './login.js';

/** The refusal reason counted in shekara.ingest.rejects and logged (with the keyed reference, no VIN, no ICCID). */
export const LOGIN_REFUSALS: Readonly<Record<Exclude<Gbt32960LoginVerdict, 'ok'>, string>> = {
  'iccid-mismatch': 'iccid-not-pinned',
  'serial-not-increasing': 'login-serial-not-increasing',
};

/** The login's check: its day is the frame's own date in Beijing time (GMT+8), where the count restarts. */
export function loginCheck(vin: string, login: Login, cfg: Gbt32960Config['identity'], at: number): Gbt32960Login {
  return {
    vin,
    iccid: login.iccid,
    day: new Date(login.time + 8 * 3_600_000).toISOString().slice(0, 10),
    serial: login.serial,
    at,
    pinIccid: cfg.pinIccid,
    checkSerial: cfg.checkLoginSerial,
  };
}
