/**
 * After a SIM swap (docs/gbt32960.md "Identity binding"): a terminal pinned to its old ICCID is
 * refused with the new card until an operator clears the pin — through the admin API (operator
 * role only, in the access log) or `shekara gbt32960 clear-iccid-pin` (the built CLI, against the
 * running gateway's store). Then the terminal logs in over real TCP and is pinned to the new
 * card: the old one is refused from then on, and a replayed login of the old card never was let in.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CMD, FLAG } from '../../../src/ingest/gbt32960/frame.js';
import { loginData, SimTerminal } from '../../../src/sim/gbt32960.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { adminClient, type AdminClient } from '../../api/admin-helpers.js';
import { shekara } from '../../audit/helpers.js';

const OLD_ICCID = '89860000000000000001';
const NEW_ICCID = '89860011111111111111';
const CODES = ['PACK000000000000000000001'];
/** 2026-03-04 10:00 Beijing time (GMT+8). */
const DAY = Date.UTC(2026, 2, 4, 2, 0, 0);
const ROUTE = (vin: string) => `/vehicles/${vin}/gbt32960/iccid-pin/clear`;

describe('gbt32960 › clearing an ICCID pin after a SIM swap', () => {
  let gw: TestGateway;
  let api: AdminClient;
  let regulatorKey: string;
  let cliConfig: string;
  const open: SimTerminal[] = [];
  /** One login on a fresh TCP connection: the answer's flag, once the gateway has closed the socket. */
  const login = async (vin: string, serial: number, iccid: string) => {
    const t = await SimTerminal.connect({ host: '127.0.0.1', port: gw.app.ingest.gbt32960Port!, vin });
    open.push(t);
    const answer = await t.send(CMD.vehicleLogin, loginData(2016, DAY + serial * 60_000, serial, iccid, CODES));
    if (answer.flag === FLAG.success) await t.logout(serial, DAY + serial * 60_000);
    await t.closed();
    return answer.flag;
  };
  const refusedPins = () => gw.app.ingest.counters.rejected['iccid-not-pinned'] ?? 0;

  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 3,
      config: {
        gbt32960: { enabled: true, tcp: { enabled: true, host: '127.0.0.1', port: 0, allowFrom: ['127.0.0.0/8'] } },
      },
    });
    api = adminClient(
      () => gw.httpUrl,
      (await gw.app.store.createApiKey({ role: 'operator', label: 'ops', now: Date.now() })).key,
    );
    regulatorKey = (await gw.app.store.createApiKey({ role: 'regulator', label: 'reg', now: Date.now() })).key;
    cliConfig = path.join(gw.dir, 'cli.yaml');
    writeFileSync(
      cliConfig,
      stringify({ dataDir: gw.dir, ...(gw.storeConfig ? { store: gw.storeConfig } : {}), log: { level: 'silent' } }),
    );
  });
  afterAll(async () => {
    for (const t of open) t.close();
    await gw?.stop();
  });

  it('admin API: the new card is refused until an operator clears the pin, then it is the pinned one', async () => {
    const vin = gw.cars[0]!.vin;
    expect(await login(vin, 1, OLD_ICCID)).toBe(FLAG.success);
    // The SIM card was swapped: the terminal logs in with the new ICCID and is refused.
    expect(await login(vin, 2, NEW_ICCID)).toBe(FLAG.error);
    expect(refusedPins()).toBe(1);

    // Deny by default: no key, a key of another role.
    const anonymous = await fetch(`${gw.httpUrl}/admin/v1${ROUTE(vin)}`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    const regulator = await fetch(`${gw.httpUrl}/admin/v1${ROUTE(vin)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${regulatorKey}` },
    });
    expect(regulator.status).toBe(403);
    // Refused attempts changed nothing.
    expect(await login(vin, 3, NEW_ICCID)).toBe(FLAG.error);

    expect(await api.ok('POST', ROUTE(vin))).toEqual({ vin, cleared: true });
    expect(await login(vin, 4, NEW_ICCID)).toBe(FLAG.success);
    // Pinned to the new card now: the old one is refused, and so is a replayed old login.
    expect(await login(vin, 5, OLD_ICCID)).toBe(FLAG.error);
    expect(refusedPins()).toBe(3);
    expect(await login(vin, 6, NEW_ICCID)).toBe(FLAG.success);

    // Every call is an access leaf (the refused ones under the key that tried), without the VIN.
    const leaves = (await gw.app.store.listAuditEvents({ kind: 'access', limit: 1_000 }))
      .map((e) => e.body)
      .filter((b) => b.route === '/admin/v1/vehicles/:vin/gbt32960/iccid-pin/clear');
    expect(leaves.map((b) => [b.role, b.status, b.category])).toEqual([
      ['regulator', 403, 'vehicles'],
      ['operator', 200, 'vehicles'],
    ]);
    expect(JSON.stringify(leaves)).not.toContain(vin);
  });

  it('admin API: a pin already cleared, or never set, says so; an unknown VIN is 404; the route is documented', async () => {
    const vin = gw.cars[1]!.vin;
    expect(await api.ok('POST', ROUTE(vin))).toEqual({ vin, cleared: false });
    expect(await login(vin, 1, OLD_ICCID)).toBe(FLAG.success);
    expect(await api.ok('POST', ROUTE(vin))).toEqual({ vin, cleared: true });
    expect(await api.ok('POST', ROUTE(vin))).toEqual({ vin, cleared: false });
    expect((await api.call('POST', ROUTE('LGBTK000000099999'))).status).toBe(404);
    expect((await api.call('POST', ROUTE('not-a-vin'))).status).toBe(400);
    const doc = await api.ok<{ paths: Record<string, unknown> }>('GET', '/openapi.json');
    expect(Object.keys(doc.paths)).toContain('/admin/v1/vehicles/{vin}/gbt32960/iccid-pin/clear');
  });

  it("CLI: `shekara gbt32960 clear-iccid-pin` on the running gateway's store lets the new card in", async () => {
    const vin = gw.cars[2]!.vin;
    expect(await login(vin, 1, OLD_ICCID)).toBe(FLAG.success);
    expect(await login(vin, 2, NEW_ICCID)).toBe(FLAG.error);

    const r = await shekara('gbt32960', 'clear-iccid-pin', vin, '-c', cliConfig);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`cleared the ICCID pin of ${vin}`);
    expect(await login(vin, 3, NEW_ICCID)).toBe(FLAG.success);
    expect(await login(vin, 4, OLD_ICCID)).toBe(FLAG.error);

    const again = await shekara('gbt32960', 'clear-iccid-pin', vin, '-c', cliConfig);
    expect(again.code).toBe(0);
    const bad = await shekara('gbt32960', 'clear-iccid-pin', 'not-a-vin', '-c', cliConfig);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('a VIN is 17 characters');
    const help = await shekara('gbt32960', 'clear-iccid-pin', '--help');
    expect(help.stdout).toContain('SIM swap');
    expect(help.stdout).toContain('POST /admin/v1/vehicles/{vin}/gbt32960/iccid-pin/clear');
    // The command is in the access log, without its argument.
    const cli = (await gw.app.store.listAuditEvents({ kind: 'access', limit: 1_000 }))
      .map((e) => e.body)
      .filter((b) => b.action === 'cli' && b.command === 'gbt32960 clear-iccid-pin');
    expect(cli.map((b) => [b.result, b.category])).toEqual([
      ['ok', 'vehicles'],
      ['ok', 'vehicles'],
      ['SHK_BAD_REQUEST', 'vehicles'],
    ]);
    expect(JSON.stringify(cli)).not.toContain(vin);
  }, 180_000); // four runs of the built CLI: seconds each on a loaded machine
});

describe('gbt32960 login rule with a cleared pin', () => {
  it('the next login pins its ICCID; the serial count still holds', async () => {
    const { judgeLogin } = await import('../../../src/store/gbt32960-terminals/rows.js');
    const base = { vin: 'V', iccid: 'B', day: '2026-03-04', serial: 4, at: 0, pinIccid: true, checkSerial: true };
    const cleared = { iccid: null, day: '2026-03-04', serial: 3 };
    expect(judgeLogin(cleared, base)).toEqual({ verdict: 'ok', write: { iccid: 'B', day: '2026-03-04', serial: 4 } });
    expect(judgeLogin(cleared, { ...base, serial: 3 }).verdict).toBe('serial-not-increasing');
  });
});
