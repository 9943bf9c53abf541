/**
 * Information bodies of a real-time or reissued report, one decoder per information type and
 * edition (2016 §7.2.3 tables 9..19; 2025 §7.2.4 tables 10..27, as far as public references
 * document them: docs/gbt32960.md). Every field the standard marks abnormal (0xFE…) or invalid
 * (0xFF…), or whose raw value is above its valid range, is left out: absent, never a value.
 */
import type { Edition } from './frame.js';
import { Reader, UnitError } from './reader.js';

export interface VehicleInfo {
  /** 1 started, 2 shut down, 3 other. */
  readonly state?: 1 | 2 | 3;
  /** 1 charging parked, 2 charging while driving, 3 not charging, 4 charging complete. */
  readonly charging?: 1 | 2 | 3 | 4;
  /** 1 pure electric, 2 hybrid, 3 fuel. */
  readonly mode?: 1 | 2 | 3;
  readonly speedKmh?: number;
  readonly odometerKm?: number;
  readonly voltageV?: number;
  readonly currentA?: number;
  readonly socPercent?: number;
  /** 1 working, 2 off. */
  readonly dcdc?: 1 | 2;
  /** Annex A table A.1: 0 neutral, 1..12 forward gears, 13 reverse, 14 drive, 15 park. */
  readonly gear?: number;
  readonly driveForce?: boolean;
  readonly brakeForce?: boolean;
  readonly insulationKohm?: number;
  /** 2016 only. */
  readonly acceleratorPercent?: number;
  /** 2016 only: 0..100 %, or `true` for 101 ("brake on" without a stroke reading). */
  readonly brakePercent?: number;
  readonly brakeOn?: boolean;
}

export interface Motor {
  readonly number: number;
  /** 1 consuming, 2 generating, 3 off, 4 ready. */
  readonly state?: 1 | 2 | 3 | 4;
  readonly controllerTempC?: number;
  readonly speedRpm?: number;
  readonly torqueNm?: number;
  readonly tempC?: number;
  /** 2016 only. */
  readonly controllerVoltageV?: number;
  readonly controllerCurrentA?: number;
}

export interface FuelCell {
  readonly voltageV?: number;
  readonly currentA?: number;
  readonly consumptionKgPer100km?: number;
  readonly probeTempsC: readonly (number | undefined)[];
  readonly hydrogenMaxTempC?: number;
  readonly hydrogenMaxTempProbe?: number;
  readonly hydrogenMaxConcentrationPpm?: number;
  readonly hydrogenMaxConcentrationSensor?: number;
  readonly hydrogenMaxPressureMPa?: number;
  readonly hydrogenMaxPressureSensor?: number;
  /** 1 working, 2 off. */
  readonly dcdc?: 1 | 2;
}

export interface Engine {
  /** 2016 only: 1 running, 2 stopped. */
  readonly state?: 1 | 2;
  readonly crankshaftRpm?: number;
  /** 2016 only. */
  readonly consumptionLPer100km?: number;
}

export interface Position {
  /** Signed degrees (south and west negative); absent when the fix is marked invalid. */
  readonly latitude?: number;
  readonly longitude?: number;
  readonly valid: boolean;
  /** 2025 only: 1 WGS-84, 2 GCJ-02, 3 other. */
  readonly datum?: number;
}

export interface Extremes {
  readonly maxVoltageSubsystem?: number;
  readonly maxVoltageCell?: number;
  readonly maxCellVoltageV?: number;
  readonly minVoltageSubsystem?: number;
  readonly minVoltageCell?: number;
  readonly minCellVoltageV?: number;
  readonly maxTempSubsystem?: number;
  readonly maxTempProbe?: number;
  readonly maxTempC?: number;
  readonly minTempSubsystem?: number;
  readonly minTempProbe?: number;
  readonly minTempC?: number;
}

export interface Alarms {
  /** 0..3 (0 no fault, 3 the most severe). */
  readonly level?: number;
  /** General alarm flags (bit n = table 18 row n). */
  readonly flags: number;
  readonly ressFaults: readonly number[];
  readonly motorFaults: readonly number[];
  readonly engineFaults: readonly number[];
  readonly otherFaults: readonly number[];
  /** 2025 only: per general alarm, its level. */
  readonly levels?: readonly { readonly alarm: number; readonly level: number }[];
}

export interface PackVoltages {
  readonly subsystem: number;
  readonly voltageV?: number;
  readonly currentA?: number;
  /** 2016 only: cells in the subsystem, and the first cell this frame carries (1-based). */
  readonly cellTotal?: number;
  readonly firstCell?: number;
  readonly cellVoltagesV: readonly (number | undefined)[];
}

export interface PackTemperatures {
  readonly subsystem: number;
  readonly probeTempsC: readonly (number | undefined)[];
}

export interface Infos {
  vehicle?: VehicleInfo;
  motors?: Motor[];
  fuelCell?: FuelCell;
  engine?: Engine;
  position?: Position;
  extremes?: Extremes;
  alarms?: Alarms;
  voltages?: PackVoltages[];
  temperatures?: PackTemperatures[];
}

export type InfoKey = keyof Infos;
type Decoder = (r: Reader, into: Infos) => void;

const byte = { max: 0xfd };
const tempC = { max: 250, offset: -40 };

function vehicle(edition: Edition): Decoder {
  return (r, into) => {
    const v: { -readonly [K in keyof VehicleInfo]: VehicleInfo[K] } = {};
    v.state = r.code('vehicle state', [1, 2, 3]);
    v.charging = r.code('charging state', [1, 2, 3, 4]);
    v.mode = r.code('operating mode', [1, 2, 3]);
    v.speedKmh = r.value(2, 'speed', { max: 2200, factor: 0.1, digits: 1 });
    v.odometerKm = r.value(4, 'odometer', { max: 9_999_999, factor: 0.1, digits: 1 });
    v.voltageV = r.value(2, 'total voltage', { max: 10_000, factor: 0.1, digits: 1 });
    // 2016: 0..20000, offset 1000 A; 2025: offset 3000 A (references: docs/gbt32960.md).
    v.currentA =
      edition === 2016
        ? r.value(2, 'total current', { max: 20_000, factor: 0.1, offset: -1000, digits: 1 })
        : r.value(2, 'total current', { max: 60_000, factor: 0.1, offset: -3000, digits: 1 });
    v.socPercent = r.value(1, 'SOC', { max: 100 });
    v.dcdc = r.code('DC-DC state', [1, 2]);
    const gear = r.u8('gear');
    // 2025 Annex A: bit 7 set = the gear position is invalid.
    if (!(edition === 2025 && gear & 0x80)) v.gear = gear & 0x0f;
    v.driveForce = (gear & 0x20) !== 0;
    v.brakeForce = (gear & 0x10) !== 0;
    v.insulationKohm = r.value(2, 'insulation resistance', { max: 60_000 });
    if (edition === 2016) {
      v.acceleratorPercent = r.value(1, 'accelerator pedal', { max: 100 });
      const brake = r.u8('brake pedal');
      if (brake <= 100) v.brakePercent = brake;
      else if (brake === 101) v.brakeOn = true;
    }
    into.vehicle = strip(v);
  };
}

function motors(edition: Edition): Decoder {
  return (r, into) => {
    const n = r.u8('drive motor count');
    const out: Motor[] = [];
    for (let i = 0; i < n; i++) {
      const m: { -readonly [K in keyof Motor]: Motor[K] } = { number: r.u8('drive motor number') };
      m.state = r.code('drive motor state', [1, 2, 3, 4]);
      m.controllerTempC = r.value(1, 'motor controller temperature', tempC);
      if (edition === 2016) {
        m.speedRpm = r.value(2, 'motor speed', { max: 65_531, offset: -20_000 });
        m.torqueNm = r.value(2, 'motor torque', { max: 65_531, factor: 0.1, offset: -2000, digits: 1 });
        m.tempC = r.value(1, 'motor temperature', tempC);
        m.controllerVoltageV = r.value(2, 'motor controller voltage', { max: 60_000, factor: 0.1, digits: 1 });
        m.controllerCurrentA = r.value(2, 'motor controller current', {
          max: 20_000,
          factor: 0.1,
          offset: -1000,
          digits: 1,
        });
      } else {
        m.speedRpm = r.value(2, 'motor speed', { max: 65_531, offset: -32_000 });
        m.torqueNm = r.value(4, 'motor torque', { max: 0xfffffffd, factor: 0.1, offset: -20_000, digits: 1 });
        m.tempC = r.value(1, 'motor temperature', tempC);
      }
      out.push(strip(m));
    }
    into.motors = out;
  };
}

const fuelCell2016: Decoder = (r, into) => {
  const f: { -readonly [K in keyof FuelCell]: FuelCell[K] } = { probeTempsC: [] };
  f.voltageV = r.value(2, 'fuel cell voltage', { max: 20_000, factor: 0.1, digits: 1 });
  f.currentA = r.value(2, 'fuel cell current', { max: 20_000, factor: 0.1, digits: 1 });
  f.consumptionKgPer100km = r.value(2, 'fuel consumption rate', { max: 60_000, factor: 0.01, digits: 2 });
  const n = r.u16('fuel cell probe count');
  if (n > 65_531) throw new UnitError('fuel cell probe count: above 65531');
  r.need(n, 'fuel cell probe temperatures');
  const temps: (number | undefined)[] = [];
  for (let i = 0; i < n; i++) temps.push(r.value(1, 'fuel cell probe temperature', { max: 240, offset: -40 }));
  f.probeTempsC = temps;
  f.hydrogenMaxTempC = r.value(2, 'hydrogen max temperature', { max: 2400, factor: 0.1, offset: -40, digits: 1 });
  f.hydrogenMaxTempProbe = r.value(1, 'hydrogen max temperature probe', { max: 252 });
  f.hydrogenMaxConcentrationPpm = r.value(2, 'hydrogen max concentration', { max: 60_000 });
  f.hydrogenMaxConcentrationSensor = r.value(1, 'hydrogen max concentration sensor', { max: 252 });
  f.hydrogenMaxPressureMPa = r.value(2, 'hydrogen max pressure', { max: 1000, factor: 0.1, digits: 1 });
  f.hydrogenMaxPressureSensor = r.value(1, 'hydrogen max pressure sensor', { max: 252 });
  f.dcdc = r.code('high-voltage DC-DC state', [1, 2]);
  into.fuelCell = strip(f);
};

function engine(edition: Edition): Decoder {
  return (r, into) => {
    const e: { -readonly [K in keyof Engine]: Engine[K] } = {};
    if (edition === 2016) e.state = r.code('engine state', [1, 2]);
    e.crankshaftRpm = r.value(2, 'crankshaft speed', { max: 60_000 });
    if (edition === 2016)
      e.consumptionLPer100km = r.value(2, 'fuel consumption rate', { max: 60_000, factor: 0.01, digits: 2 });
    into.engine = strip(e);
  };
}

function position(edition: Edition): Decoder {
  return (r, into) => {
    const status = r.u8('positioning status');
    const datum = edition === 2025 ? r.code('coordinate system', [1, 2, 3]) : undefined;
    const lon = r.u32('longitude');
    const lat = r.u32('latitude');
    // Table 15: bit 0 — 0 valid fix, 1 invalid; bit 1 — 0 north, 1 south; bit 2 — 0 east, 1 west.
    const valid = (status & 0x01) === 0;
    const p: { -readonly [K in keyof Position]: Position[K] } = { valid, datum };
    if (valid && lon <= 180_000_000 && lat <= 90_000_000) {
      p.longitude = ((status & 0x04 ? -1 : 1) * lon) / 1e6;
      p.latitude = ((status & 0x02 ? -1 : 1) * lat) / 1e6;
    }
    into.position = strip(p);
  };
}

const extremes2016: Decoder = (r, into) => {
  const volts = { max: 15_000, factor: 0.001, digits: 3 };
  const x: { -readonly [K in keyof Extremes]: Extremes[K] } = {};
  x.maxVoltageSubsystem = r.value(1, 'max voltage subsystem', byte);
  x.maxVoltageCell = r.value(1, 'max voltage cell', byte);
  x.maxCellVoltageV = r.value(2, 'max cell voltage', volts);
  x.minVoltageSubsystem = r.value(1, 'min voltage subsystem', byte);
  x.minVoltageCell = r.value(1, 'min voltage cell', byte);
  x.minCellVoltageV = r.value(2, 'min cell voltage', volts);
  x.maxTempSubsystem = r.value(1, 'max temperature subsystem', byte);
  x.maxTempProbe = r.value(1, 'max temperature probe', byte);
  x.maxTempC = r.value(1, 'max temperature', tempC);
  x.minTempSubsystem = r.value(1, 'min temperature subsystem', byte);
  x.minTempProbe = r.value(1, 'min temperature probe', byte);
  x.minTempC = r.value(1, 'min temperature', tempC);
  into.extremes = strip(x);
};

function alarms(edition: Edition): Decoder {
  return (r, into) => {
    const level = r.value(1, 'max alarm level', { max: 3 });
    const flags = r.u32('general alarm flags');
    const list = (what: string) => {
      const n = r.u8(`${what} count`);
      if (n > 252) throw new UnitError(`${what} count: above 252`);
      r.need(4 * n, what);
      return Array.from({ length: n }, () => r.u32(what));
    };
    const a: { -readonly [K in keyof Alarms]: Alarms[K] } = {
      level,
      flags,
      ressFaults: list('RESS fault codes'),
      motorFaults: list('drive motor fault codes'),
      engineFaults: list('engine fault codes'),
      otherFaults: list('other fault codes'),
    };
    if (edition === 2025) {
      const n = r.u8('general alarm level count');
      r.need(2 * n, 'general alarm levels');
      a.levels = Array.from({ length: n }, () => ({
        alarm: r.u8('general alarm'),
        level: r.u8('general alarm level'),
      }));
    }
    into.alarms = strip(a);
  };
}

function voltages(edition: Edition): Decoder {
  return (r, into) => {
    const n = r.u8('RESS subsystem count');
    const out: PackVoltages[] = [];
    const cell = { max: 60_000, factor: 0.001, digits: 3 };
    for (let i = 0; i < n; i++) {
      const p: { -readonly [K in keyof PackVoltages]: PackVoltages[K] } = {
        subsystem: r.u8('RESS subsystem number'),
        cellVoltagesV: [],
      };
      p.voltageV = r.value(2, 'RESS voltage', { max: 10_000, factor: 0.1, digits: 1 });
      p.currentA =
        edition === 2016
          ? r.value(2, 'RESS current', { max: 20_000, factor: 0.1, offset: -1000, digits: 1 })
          : r.value(2, 'RESS current', { max: 60_000, factor: 0.1, offset: -3000, digits: 1 });
      let count: number;
      if (edition === 2016) {
        p.cellTotal = r.value(2, 'RESS cell total', { max: 65_531 });
        p.firstCell = r.value(2, 'first cell of this frame', { max: 65_531 });
        count = r.u8('cells in this frame');
        if (count > 200) throw new UnitError('cells in this frame: above 200');
      } else count = r.u16('cells in this frame');
      r.need(2 * count, 'cell voltages');
      p.cellVoltagesV = Array.from({ length: count }, () => r.value(2, 'cell voltage', cell));
      out.push(strip(p));
    }
    into.voltages = out;
  };
}

const temperatures: Decoder = (r, into) => {
  const n = r.u8('RESS subsystem count');
  const out: PackTemperatures[] = [];
  for (let i = 0; i < n; i++) {
    const subsystem = r.u8('RESS subsystem number');
    const count = r.u16('RESS probe count');
    if (count > 65_531) throw new UnitError('RESS probe count: above 65531');
    r.need(count, 'RESS probe temperatures');
    const probeTempsC = Array.from({ length: count }, () => r.value(1, 'probe temperature', tempC));
    out.push({ subsystem, probeTempsC });
  }
  into.temperatures = out;
};

export interface InfoType {
  readonly key: InfoKey;
  readonly decode: Decoder;
}

/** 2016 §7.2.3 table 8. 0x0A..0x2F platform exchange, 0x30..0x7F reserved, 0x80..0xFE vendor. */
export const INFO_2016: Readonly<Record<number, InfoType>> = {
  0x01: { key: 'vehicle', decode: vehicle(2016) },
  0x02: { key: 'motors', decode: motors(2016) },
  0x03: { key: 'fuelCell', decode: fuelCell2016 },
  0x04: { key: 'engine', decode: engine(2016) },
  0x05: { key: 'position', decode: position(2016) },
  0x06: { key: 'extremes', decode: extremes2016 },
  0x07: { key: 'alarms', decode: alarms(2016) },
  0x08: { key: 'voltages', decode: voltages(2016) },
  0x09: { key: 'temperatures', decode: temperatures },
};

/**
 * 2025 §7.2.3 table 9: the extreme values block is gone, alarms/voltages/temperatures moved to
 * 0x06..0x08. 0x03 (fuel cell system), 0x30 (fuel cell stacks), 0x31 (super capacitors) and
 * 0x32 (super capacitor extremes) exist, but no public reference gives their layout: they are
 * kept raw (report.ts).
 */
export const INFO_2025: Readonly<Record<number, InfoType>> = {
  0x01: { key: 'vehicle', decode: vehicle(2025) },
  0x02: { key: 'motors', decode: motors(2025) },
  0x04: { key: 'engine', decode: engine(2025) },
  0x05: { key: 'position', decode: position(2025) },
  0x06: { key: 'alarms', decode: alarms(2025) },
  0x07: { key: 'voltages', decode: voltages(2025) },
  0x08: { key: 'temperatures', decode: temperatures },
};

/** Drops the keys whose value is undefined (absent), so a decoded body lists only values. */
function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export { UnitError };
