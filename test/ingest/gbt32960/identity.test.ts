/**
 * GB/T 32960 identity beyond the VIN (docs/gbt32960.md "Identity binding"), over real TCP
 * sockets against a real gateway: the ICCID a VIN first logs in with is pinned, and login
 * serial numbers count up within a day (GB/T 32960.3-2016 §7.1 table 6), so a recorded login
 * frame sent again is refused. Refusals get the error flag (§6.3.2), close the connection, and
 * are logged with the keyed vehicle reference, never the VIN or the ICCID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CMD, FLAG } from '../../../src/ingest/gbt32960/frame.js';
import { judgeLogin } from '../../../src/store/gbt32960-terminals/rows.js';
import { loginData, SimTerminal } from '../../../src/sim/gbt32960.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { captureLog, type LogCapture } from '../../helpers/log-capture.js';

const ICCID = '89860000000000000001';
const OTHER_ICCID = '89860099999999999999';
const CODES = ['PACK000000000000000000001'];
/** 2026-03-04 10:00 and the next day, Beijing time (GMT+8). */
const DAY = Date.UTC(2026, 2, 4, 2, 0, 0);
const NEXT_DAY = DAY + 86_400_000;

describe('gbt32960 identity: ICCID pinned, login serial numbers counting up', () => {
  let gw: TestGateway;
  let cap: LogCapture;
  const open: SimTerminal[] = [];
  /** One login on a fresh connection: the answer's flag, once the gateway has closed the socket (after logout or refusal). */
  const login = async (vin: string, serial: number, time: number, iccid = ICCID) => {
    const t = await SimTerminal.connect({ host: '127.0.0.1', port: gw.app.ingest.gbt32960Port!, vin });
    open.push(t);
    const answer = await t.send(CMD.vehicleLogin, loginData(2016, time, serial, iccid, CODES));
    // Logged out after a success, so the next login of the VIN is not a duplicate; a refusal closes at once.
    if (answer.flag === FLAG.success) await t.logout(serial, time);
    await t.closed();
    return { flag: answer.flag };
  };
  const refusals = () => cap.lines().filter((l) => l.msg === 'gbt32960: refused');

  beforeAll(async () => {
    cap = captureLog('info');
    gw = await startTestGateway({
      cars: 3,
      log: cap.log,
      config: {
        gbt32960: { enabled: true, tcp: { enabled: true, host: '127.0.0.1', port: 0, allowFrom: ['127.0.0.0/8'] } },
      },
    });
  });
  afterAll(async () => {
    for (const t of open) t.close();
    await gw?.stop();
  });

  it('the first ICCID is pinned: another is refused with the error flag, closed, and logged without VIN or ICCID', async () => {
    const vin = gw.cars[0]!.vin;
    expect((await login(vin, 1, DAY)).flag).toBe(FLAG.success);
    // Same VIN, next serial, another SIM card: a cloned or swapped terminal.
    expect(await login(vin, 2, DAY, OTHER_ICCID)).toEqual({ flag: FLAG.error });
    expect(gw.app.ingest.counters.rejected['iccid-not-pinned']).toBe(1);
    const line = refusals().find((l) => l.reason === 'iccid-not-pinned');
    expect(line?.vehicle).toBe(gw.app.vehicleRef(vin));
    expect(cap.text()).not.toContain(vin);
    expect(cap.text()).not.toContain(OTHER_ICCID);
    expect(cap.text()).not.toContain(ICCID);
    // The refused login changed nothing: the pinned card logs in with that serial.
    expect((await login(vin, 2, DAY)).flag).toBe(FLAG.success);
  });

  it('a login frame sent again, or a lower serial the same day, is refused; a new day starts again', async () => {
    const vin = gw.cars[1]!.vin;
    expect((await login(vin, 5, DAY)).flag).toBe(FLAG.success);
    // The very same bytes again: a recorded login replayed.
    expect((await login(vin, 5, DAY)).flag).toBe(FLAG.error);
    expect((await login(vin, 4, DAY + 60_000)).flag).toBe(FLAG.error);
    expect(gw.app.ingest.counters.rejected['login-serial-not-increasing']).toBe(2);
    expect((await login(vin, 6, DAY + 120_000)).flag).toBe(FLAG.success);
    // §7.1: the count restarts each day; a login dated before the last accepted day is refused.
    expect((await login(vin, 1, NEXT_DAY)).flag).toBe(FLAG.success);
    expect((await login(vin, 65_531, DAY + 180_000)).flag).toBe(FLAG.error);
    expect(cap.text()).not.toContain(vin);
  });

  it('a VIN is judged on its own: another car with the same serial logs in', async () => {
    expect((await login(gw.cars[2]!.vin, 5, DAY)).flag).toBe(FLAG.success);
  });
});

describe('gbt32960 login rule (both stores apply it in one transaction)', () => {
  const base = { vin: 'V', iccid: 'A', day: '2026-03-04', serial: 3, at: 0, pinIccid: true, checkSerial: true };
  const row = { iccid: 'A', day: '2026-03-04', serial: 3 };
  it('pins the first ICCID, refuses another, and counts serials per day', () => {
    expect(judgeLogin(undefined, base)).toEqual({ verdict: 'ok', write: row });
    expect(judgeLogin(row, { ...base, iccid: 'B', serial: 4 }).verdict).toBe('iccid-mismatch');
    expect(judgeLogin(row, base).verdict).toBe('serial-not-increasing');
    expect(judgeLogin(row, { ...base, day: '2026-03-03', serial: 9 }).verdict).toBe('serial-not-increasing');
    expect(judgeLogin(row, { ...base, day: '2026-03-05', serial: 1 }).verdict).toBe('ok');
  });
  it('each check can be turned off; with pinning off the latest ICCID is kept', () => {
    expect(judgeLogin(row, { ...base, iccid: 'B', serial: 4, pinIccid: false })).toEqual({
      verdict: 'ok',
      write: { iccid: 'B', day: '2026-03-04', serial: 4 },
    });
    expect(judgeLogin(row, { ...base, serial: 1, checkSerial: false }).verdict).toBe('ok');
  });
});
