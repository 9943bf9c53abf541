/**
 * The GB/T 32960 channel end to end: real TCP (and TLS) terminals → the same intake as MQTT →
 * store → policy → a real HTTP OEM sink. Answers follow commits; a reissued report keeps its
 * time; identity is bound at login; revocation stops both the car and the egress.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CMD, encodeFrame, FLAG } from '../../../src/ingest/gbt32960/frame.js';
import { SimTerminal, simReading } from '../../../src/sim/gbt32960.js';
import { eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { createTestPki, type TestPki } from '../../helpers/pki.js';

const POLICY = `
oem: demo-oem
purposes:
  - id: battery
    description: Battery state from GB/T 32960 cars.
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.Speed: pass
      Vehicle.Powertrain.TractionBattery.StateOfCharge.Current: pass
      Vehicle.Shekara.GBT32960.Reissued: pass
`;

/** Record ids in the order their commit resolved (the store has no list by VIN). */
const committed = new WeakMap<TestGateway, { id: string; vin: string }[]>();
function watchCommits(gw: TestGateway): void {
  const list: { id: string; vin: string }[] = [];
  committed.set(gw, list);
  const store = gw.app.store;
  const commit = store.commitIngest.bind(store);
  store.commitIngest = async (items) => {
    await commit(items);
    for (const i of items) if (i.kind === 'record') list.push({ id: i.record.id, vin: i.record.vin });
  };
}
const records = async (gw: TestGateway, vin: string) => {
  const out = [];
  for (const c of committed.get(gw)!) if (c.vin === vin) out.push((await gw.app.store.getRecord(c.id))!);
  return out;
};

describe('gbt32960 listener (plain TCP from an allowed network)', () => {
  let gw: TestGateway;
  let port: number;
  const open: SimTerminal[] = [];
  const terminal = async (vin: string, edition: 2016 | 2025 = 2016) => {
    const t = await SimTerminal.connect({ host: '127.0.0.1', port, vin, edition });
    open.push(t);
    return t;
  };
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 5,
      policy: POLICY,
      config: {
        gbt32960: { enabled: true, tcp: { enabled: true, host: '127.0.0.1', port: 0, allowFrom: ['127.0.0.0/8'] } },
      },
    });
    port = gw.app.ingest.gbt32960Port!;
    watchCommits(gw);
  });
  afterAll(async () => {
    for (const t of open) t.close();
    await gw?.stop();
  });

  it('answers the login, stores a report before answering it, and the OEM gets the policy projection', async () => {
    const car = gw.cars[0]!;
    const t = await terminal(car.vin);
    const login = await t.login(1, Date.UTC(2026, 0, 2, 3, 4, 5));
    expect([login.command, login.flag, login.vin]).toEqual([CMD.vehicleLogin, FLAG.success, car.vin]);
    // The answer's data unit is the time of the frame it answers (§6.3.2).
    expect(login.data.toString('hex')).toBe('1a01020b0405');
    const reading = simReading(1, Date.now() - 5_000);
    const answer = await t.report(reading);
    expect([answer.command, answer.flag]).toEqual([CMD.realtime, FLAG.success]);
    // Answered only after the commit: the record is there the moment the answer is.
    const stored = await records(gw, car.vin);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.record).toMatchObject({ channel: 'gbt32960', observedAt: reading.time });
    expect(stored[0]!.record.signals).toMatchObject({
      'Vehicle.Speed': reading.speedKmh,
      'Vehicle.CurrentLocation.Latitude': reading.latitude,
      'Vehicle.Shekara.GBT32960.Reissued': false,
    });
    const d = await eventually(() => gw.sink.deliveries[0], 10_000, 'a delivery');
    expect(JSON.stringify(d.body)).toContain('"Vehicle.Speed"');
    expect(JSON.stringify(d.body)).not.toContain(car.vin);
    // Position is not in the policy, and the raw frame never leaves.
    expect(JSON.stringify(d.body)).not.toMatch(/Latitude|gbt32960|frame/);
    expect((await t.heartbeat()).flag).toBe(FLAG.success);
  });

  it('a reissued report keeps its own time as the observation time and is marked reissued', async () => {
    const car = gw.cars[1]!;
    const t = await terminal(car.vin, 2025);
    expect((await t.login()).flag).toBe(FLAG.success);
    const old = simReading(2, Date.now() - 3_600_000);
    expect((await t.report(old, true)).command).toBe(CMD.reissue);
    const [r] = await records(gw, car.vin);
    expect(r!.record.observedAt).toBe(old.time);
    expect(r!.record.signals['Vehicle.Shekara.GBT32960.Reissued']).toBe(true);
    expect(r!.record.signals['Vehicle.Shekara.GBT32960.Edition']).toBe(2025);
  });

  it('many frames in one write, one frame byte by byte, garbage and a bad check code: every good frame answered, in order', async () => {
    const car = gw.cars[2]!;
    const t = await terminal(car.vin);
    expect((await t.login()).flag).toBe(FLAG.success);
    const a = t.frame(CMD.heartbeat);
    const b = t.frame(
      CMD.realtime,
      (await import('../../../src/sim/gbt32960.js')).reportData(2016, simReading(3, Date.now())),
    );
    const bad = Buffer.from(a);
    bad[bad.length - 1]! ^= 0xff;
    const answers = [t.nextAnswer(), t.nextAnswer(), t.nextAnswer()];
    t.write(Buffer.concat([a, Buffer.from('garbage'), bad, b]));
    const c = t.frame(CMD.heartbeat);
    for (const byte of c) t.write(Buffer.from([byte]));
    const got = await Promise.all(answers);
    expect(got.map((f) => [f.command, f.flag])).toEqual([
      [CMD.heartbeat, FLAG.success],
      [CMD.realtime, FLAG.success],
      [CMD.heartbeat, FLAG.success],
    ]);
  });

  it('a second login for a VIN already connected is answered "VIN duplicate" and closed', async () => {
    const car = gw.cars[2]!;
    const t = await terminal(car.vin);
    // A second connection for the same VIN is answered "VIN duplicate" and closed (§6.3.2).
    expect((await t.login()).flag).toBe(FLAG.vinDuplicate);
    await expect(t.heartbeat()).rejects.toThrow();
  });

  it('an unregistered VIN, a frame before login, a VIN that is not the logged-in one: refused and closed', async () => {
    const stranger = await terminal('LUNKNOWN000000001');
    expect((await stranger.login()).flag).toBe(FLAG.error);
    await expect(stranger.heartbeat()).rejects.toThrow();

    const early = await terminal(gw.cars[3]!.vin);
    expect((await early.heartbeat()).flag).toBe(FLAG.error);

    const car = gw.cars[3]!;
    const t = await terminal(car.vin);
    expect((await t.login()).flag).toBe(FLAG.success);
    const forged = encodeFrame({ edition: 2016, command: CMD.heartbeat, flag: FLAG.command, vin: gw.cars[0]!.vin });
    const answer = t.nextAnswer();
    t.write(forged);
    expect((await answer).flag).toBe(FLAG.error);
    await expect(t.heartbeat()).rejects.toThrow();
  });

  it('a malformed data unit with a good check code: quarantined, answered with the error flag, the car stays', async () => {
    const car = gw.cars[3]!;
    const t = await terminal(car.vin);
    expect((await t.login()).flag).toBe(FLAG.success);
    const before = (await gw.app.store.listQuarantine()).length;
    // A report holding only its time and half a whole-vehicle block.
    const answer = await t.send(CMD.realtime, Buffer.from('1a0102030405010101', 'hex'));
    expect(answer.flag).toBe(FLAG.error);
    const q = await gw.app.store.listQuarantine();
    expect(q.length).toBe(before + 1);
    expect(q.some((x) => x.channel === 'gbt32960' && x.raw[0] === 0x23)).toBe(true);
    expect((await t.heartbeat()).flag).toBe(FLAG.success);
  });

  it('time calibration is answered with the platform time (GMT+8); a logout is answered, then the link closes', async () => {
    const t = await terminal(gw.cars[4]!.vin);
    expect((await t.login()).flag).toBe(FLAG.success);
    const before = Math.floor(Date.now() / 1000) * 1000;
    const answer = await t.send(CMD.timeCalibration);
    const after = Date.now();
    expect([answer.command, answer.flag]).toEqual([CMD.timeCalibration, FLAG.success]);
    // §7.7: the data unit is the platform's time, year − 2000 … second, Beijing time.
    const [y, mo, d, h, mi, sec] = [...answer.data];
    const platform = Date.UTC(2000 + y!, mo! - 1, d, h, mi, sec) - 8 * 3_600_000;
    expect(platform).toBeGreaterThanOrEqual(before);
    expect(platform).toBeLessThanOrEqual(after);
    const bye = await t.logout(1);
    expect([bye.command, bye.flag]).toEqual([CMD.vehicleLogout, FLAG.success]);
    await t.closed();
  });

  it('revoking the vehicle closes its connection and a new login is refused', async () => {
    const car = gw.cars[0]!;
    const t = open[0]!;
    const closed = new Promise((r) => t.socket.once('close', r));
    await gw.app.admin.vehicles.revoke(car.vin, 'test');
    await closed;
    const again = await terminal(car.vin);
    expect((await again.login()).flag).toBe(FLAG.error);
  });
});

describe('gbt32960 listener › sources outside allowFrom', () => {
  it('closes the socket before reading a byte', async () => {
    const gw = await startTestGateway({
      cars: 1,
      config: {
        gbt32960: { enabled: true, tcp: { enabled: true, host: '127.0.0.1', port: 0, allowFrom: ['10.0.0.0/8'] } },
      },
    });
    try {
      const t = await SimTerminal.connect({
        host: '127.0.0.1',
        port: gw.app.ingest.gbt32960Port!,
        vin: gw.cars[0]!.vin,
      });
      await expect(t.login()).rejects.toThrow();
      expect(gw.app.ingest.counters.rejected['source-not-allowed']).toBe(1);
    } finally {
      await gw.stop();
    }
  });
});

describe('gbt32960 listener over TLS: the client certificate binds the VIN', () => {
  let gw: TestGateway;
  let pki: TestPki;
  beforeAll(async () => {
    pki = createTestPki();
    gw = await startTestGateway({
      cars: 2,
      config: {
        gbt32960: {
          enabled: true,
          tls: {
            enabled: true,
            host: '127.0.0.1',
            port: 0,
            certFile: pki.serverCert,
            keyFile: pki.serverKey,
            clientCaFile: pki.caFile,
          },
        },
      },
    });
  });
  afterAll(async () => gw?.stop());
  const tls = (files: { cert: string; key: string } | undefined) => ({
    ca: readFileSync(pki.caFile),
    ...(files ? { cert: readFileSync(files.cert), key: readFileSync(files.key) } : {}),
  });

  it('logs in the VIN its certificate names, and no other', async () => {
    const [a, b] = gw.cars;
    const port = gw.app.ingest.gbt32960TlsPort!;
    const ok = await SimTerminal.connect({ host: '127.0.0.1', port, vin: a!.vin, tls: tls(pki.vehicle(a!.vin)) });
    expect((await ok.login()).flag).toBe(FLAG.success);
    expect((await ok.report(simReading(1, Date.now()))).flag).toBe(FLAG.success);
    ok.close();
    const other = await SimTerminal.connect({ host: '127.0.0.1', port, vin: b!.vin, tls: tls(pki.vehicle(a!.vin)) });
    expect((await other.login()).flag).toBe(FLAG.error);
    const none = await SimTerminal.connect({ host: '127.0.0.1', port, vin: b!.vin, tls: tls(undefined) });
    expect((await none.login()).flag).toBe(FLAG.error);
    expect(gw.app.ingest.counters.rejected).toMatchObject({ 'certificate-not-vin': 1, 'certificate-required': 1 });
  });
});
