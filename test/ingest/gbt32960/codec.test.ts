/**
 * GB/T 32960 frames and data units against published sample frames, both editions.
 * Samples: test/fixtures/gbt32960/rtm_con-samples.json — copied from beidouchangxi/rtm_con,
 * tests/rtm_con/message_and_data_samples.py @ f1363de (GPL-2.0; test vectors only). Each
 * expected value below is the one that file lists for the sample.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameError, parseFrame, type Frame } from '../../../src/ingest/gbt32960/frame.js';
import { decodeMessage } from '../../../src/ingest/gbt32960/message.js';
import { UnitError } from '../../../src/ingest/gbt32960/reader.js';
import type { Report } from '../../../src/ingest/gbt32960/report.js';
import { reportPayload } from '../../../src/ingest/gbt32960/signals.js';
import { decodeTelemetry } from '../../../src/decoder.js';

const samples = JSON.parse(
  readFileSync(new URL('../../fixtures/gbt32960/rtm_con-samples.json', import.meta.url), 'utf8'),
) as { frames: Record<string, string> };
const frame = (name: string): Frame => parseFrame(Buffer.from(samples.frames[name]!, 'hex'));
const report = (name: string): Report => {
  const m = decodeMessage(frame(name));
  if (m.kind !== 'report') throw new Error(`${name} is not a report`);
  return m.report;
};
const VIN = 'HAUV4BGN6S5002219';
/** 2025-10-27 20:02:02 Beijing time. */
const T = Date.UTC(2025, 9, 27, 12, 2, 2);

describe('gbt32960 frame', () => {
  it('reads the header of both editions: ## is 2016, $$ is 2025', () => {
    const a = frame('data2016 with only whole_vehicle_data');
    expect([a.edition, a.command, a.flag, a.vin, a.encryption, a.data.length]).toEqual([2016, 2, 0xfe, VIN, 1, 27]);
    const b = frame('data2025 with only whole_vehicle_data');
    expect([b.edition, b.command, b.vin]).toEqual([2025, 2, VIN]);
  });

  it('refuses a wrong check code, a wrong length and a wrong start, each by its code', () => {
    const good = Buffer.from(samples.frames['logout2016']!, 'hex');
    const badBcc = Buffer.from(good);
    badBcc[badBcc.length - 1]! ^= 0x01;
    expect(() => parseFrame(badBcc)).toThrow(expect.objectContaining({ code: 'bad-bcc' }));
    expect(() => parseFrame(good.subarray(0, good.length - 1))).toThrow(expect.objectContaining({ code: 'truncated' }));
    expect(() => parseFrame(Buffer.concat([good, Buffer.from([0])]))).toThrow(
      expect.objectContaining({ code: 'trailing-bytes' }),
    );
    const badStart = Buffer.from(good);
    badStart[1] = 0x24;
    expect(() => parseFrame(badStart)).toThrow(FrameError);
  });

  it('encodes what it parses, byte for byte (the 2016 answer sample)', () => {
    const ack = frame('ack2016');
    expect(
      encodeFrame({ edition: 2016, command: ack.command, flag: ack.flag, vin: ack.vin, data: ack.data }).toString(
        'hex',
      ),
    ).toBe(samples.frames['ack2016']);
  });
});

describe('gbt32960 login and logout', () => {
  it('2016: serial, ICCID and one code per RESS subsystem', () => {
    const m = decodeMessage(frame('login2016 with serveral HVBSNs'));
    expect(m).toEqual({
      kind: 'login',
      login: {
        time: T,
        serial: 12,
        iccid: '89860924790023166606',
        ressCodes: [['0RJPEA00HAU0AAF131001955'], ['0RJPEA00HAU0AAF131001956'], ['0RJPEA00HAU0AAF131001957']],
      },
    });
  });

  it('2025: packs per subsystem, 24-character pack codes', () => {
    const m = decodeMessage(frame('login2025 with serveral HVBSNs'));
    expect(m.kind === 'login' && m.login.ressCodes).toEqual([
      ['0RJPEA00HAU0AAF131001955'],
      ['0RJPEA00HAU0AAF131001956', '0RJPEA00HAU0AAF131001957'],
    ]);
  });

  it('logout: time and the serial of the login it ends', () => {
    expect(decodeMessage(frame('logout2016'))).toEqual({
      kind: 'logout',
      logout: { time: Date.UTC(2025, 9, 27, 12, 2, 2), serial: 0x0802 },
    });
  });
});

describe('gbt32960 real-time report', () => {
  it('2016 sample of a moving car: every block decoded with the values the reference lists', () => {
    const r = report('data_2016');
    expect(r.time).toBe(Date.UTC(2025, 9, 11, 11, 8, 18));
    expect(r.infos.vehicle).toEqual({
      state: 1,
      charging: 3,
      mode: 1,
      speedKmh: 12.2,
      odometerKm: 258.9,
      voltageV: 780.9,
      currentA: 5.1,
      socPercent: 85,
      dcdc: 1,
      gear: 14,
      driveForce: false,
      brakeForce: true,
      insulationKohm: 6553,
      acceleratorPercent: 0,
      brakePercent: 16,
    });
    expect(r.infos.motors?.[1]).toEqual({
      number: 2,
      state: 2,
      controllerTempC: 15,
      speedRpm: 873,
      torqueNm: -32.5,
      tempC: 24,
      controllerVoltageV: 775.5,
      controllerCurrentA: -2.5,
    });
    expect(r.infos.extremes).toMatchObject({
      maxCellVoltageV: 4.063,
      minCellVoltageV: 4.06,
      maxTempC: 18,
      minTempC: 16,
    });
    expect(r.infos.voltages?.[0]?.cellVoltagesV).toHaveLength(192);
    // The vendor block 0x83 (WORD length 0x001d) is kept raw, not decoded.
    expect(r.raw.map((b) => [b.type, b.data.length])).toEqual([[0x83, 29]]);
  });

  it('2025 sample: motors without controller voltage, GCJ-02 position, signature kept', () => {
    const r = report('data_2025');
    expect(r.infos.vehicle).toMatchObject({ state: 1, speedKmh: 0, odometerKm: 15591, socPercent: 75, gear: 15 });
    expect(r.infos.vehicle).not.toHaveProperty('acceleratorPercent');
    expect(r.infos.motors?.[1]).toEqual({
      number: 2,
      state: 3,
      controllerTempC: 33,
      speedRpm: 0,
      torqueNm: -0.5,
      tempC: 29,
    });
    expect(r.infos.position).toEqual({ valid: false, datum: 2 });
    expect(r.signature?.algorithm).toBe(2);
  });

  it('0xFE and 0xFF mean absent: a whole-vehicle block of markers yields no value', () => {
    expect(report('data2016 with only whole_vehicle_data').infos.vehicle).toEqual({
      gear: 15,
      driveForce: true,
      brakeForce: true,
    });
    // 2025: the gear byte 0xBF has bit 7 set, "gear position invalid".
    expect(report('data2025 with only whole_vehicle_data').infos.vehicle).toEqual({
      driveForce: true,
      brakeForce: true,
    });
    const motors = report('data2016 with only e-motor data').infos.motors;
    // 0xFEFE is not a WORD marker (those are 0xFFFE, 0xFFFF): a value, as the reference reads it.
    expect(motors).toEqual([{ number: 255 }, { number: 254, speedRpm: 45_278, torqueNm: 4527.8 }]);
  });

  it('alarms, cell voltages, probe temperatures, engine, both editions', () => {
    const a16 = report('data2016 with only warnings data').infos.alarms!;
    expect(a16.level).toBe(3);
    expect([a16.ressFaults, a16.motorFaults, a16.engineFaults]).toEqual([[], [], []]);
    expect(a16.otherFaults).toEqual([
      0x00010003, 0x00080002, 0x00080003, 0x000c0004, 0x000d0001, 0x00060920, 0x000a000b,
    ]);
    const a25 = report('data2025 with only warnings data').infos.alarms!;
    expect(a25.levels?.length).toBeGreaterThan(0);
    expect(report('data2016 with only cell volts data').infos.voltages).toHaveLength(2);
    expect(report('data2025 with only cell volts data').infos.voltages).toHaveLength(2);
    expect(report('data2016 with only probe temps data').infos.temperatures).toEqual([
      { subsystem: 255, probeTempsC: [] },
      { subsystem: 5, probeTempsC: [undefined, undefined, undefined, undefined, undefined] },
    ]);
    expect(report('data2016 with only engine data').infos.engine).toEqual({});
    expect(report('data2025 with only engine data').infos.engine).toEqual({});
  });

  it('vendor blocks (0x80..0xFE) are skipped by their WORD length and kept raw, both editions', () => {
    for (const name of ['data2016 with only probe oem data', 'data2025 with only probe oem data']) {
      const r = report(name);
      expect(r.raw).toEqual([{ type: 0x80, data: Buffer.alloc(16, 0xfe) }]);
    }
  });

  it('2025: bytes after the signature refuse the report; a block before it is kept', () => {
    expect(() => report('weird message 2025 with addtional unknown data before checksum')).toThrow(UnitError);
    const r = report('weird message 2025 with addtional unknown data before signature');
    expect(r.signature).toBeDefined();
    expect(r.raw.length + (r.unparsed ? 1 : 0)).toBeGreaterThan(0);
  });
});

describe('gbt32960 report → catalog signals', () => {
  it('maps to VSS where VSS has the signal and to Vehicle.Shekara.GBT32960 elsewhere; all fit the catalog', () => {
    const f = frame('data_2016');
    const m = decodeMessage(f);
    if (m.kind !== 'report') throw new Error('not a report');
    const payload = reportPayload(m.report, f.edition, false, f.raw);
    const decoded = decodeTelemetry(Buffer.from(JSON.stringify(payload)), VIN);
    expect(decoded.observedAt).toBe(m.report.time);
    expect(decoded.signals).toMatchObject({
      'Vehicle.Speed': 12.2,
      'Vehicle.TraveledDistance': 258.9,
      'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 85,
      'Vehicle.Powertrain.Transmission.SelectedGear': 127,
      'Vehicle.Powertrain.TractionBattery.CellVoltage.Max': 4.063,
      'Vehicle.Shekara.GBT32960.InsulationResistance': 6553,
      'Vehicle.Shekara.GBT32960.Motor.Torques': [2, -32.5],
      'Vehicle.Shekara.GBT32960.Reissued': false,
    });
    expect(decoded.signals['Vehicle.Powertrain.TractionBattery.CellVoltage.CellVoltages']).toHaveLength(192);
    // The frame and the vendor block stay in the raw record only.
    expect(decoded.unknownKeys).toEqual(['gbt32960']);
  });

  it('a reissued report is marked reissued and keeps its own time', () => {
    const f = frame('data2016 with only gnss data');
    const m = decodeMessage(f);
    if (m.kind !== 'report') throw new Error('not a report');
    const payload = reportPayload(m.report, f.edition, true, f.raw);
    expect(payload.ts).toBe(T);
    expect(payload.signals['Vehicle.Shekara.GBT32960.Reissued']).toBe(true);
    // The sample's fix is marked invalid: no position at all.
    expect(payload.signals).not.toHaveProperty('Vehicle.CurrentLocation.Latitude');
  });
});
