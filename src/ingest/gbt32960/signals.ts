/**
 * A decoded report → the intake's payload (shekara-json/1, docs/telemetry.md): `ts` is the
 * report's own collection time (a reissued report keeps it: it is when the car measured, not
 * when it caught up), `signals` holds VSS paths where VSS has the signal and Shekara's
 * GB/T 32960 branch (src/catalog/gbt32960.ts) where it does not, and `gbt32960` holds the
 * frame itself and every block not decoded to a signal — an unknown payload key, so the
 * intake keeps it in the raw record in the country and never egresses it.
 *
 * Absent values (abnormal, invalid, out of range) produce no signal. A list signal is sent
 * only when every item in it is present: a list with holes would shift the cells after one.
 */
import { GBT32960_ALARMS, GBT32960_BRANCH } from '../../catalog/gbt32960.js';
import type { Edition } from './frame.js';
import type { Report } from './report.js';

type Value = number | string | boolean | readonly number[] | readonly string[];

const G = `${GBT32960_BRANCH}.`;
const TB = 'Vehicle.Powertrain.TractionBattery.';

const VEHICLE_STATES = { 1: 'STARTED', 2: 'SHUT_DOWN', 3: 'OTHER' } as const;
const CHARGING = { 1: 'CHARGING_PARKED', 2: 'CHARGING_DRIVING', 3: 'NOT_CHARGING', 4: 'CHARGE_COMPLETE' } as const;
const MODES = { 1: 'ELECTRIC', 2: 'HYBRID', 3: 'FUEL' } as const;
const DCDC = { 1: 'WORKING', 2: 'OFF' } as const;
const MOTOR_STATES = { 1: 'CONSUMING', 2: 'GENERATING', 3: 'OFF', 4: 'READY' } as const;
const DATUMS = { 1: 'WGS84', 2: 'GCJ02', 3: 'OTHER' } as const;

export interface ReportPayload {
  readonly ts: number;
  readonly signals: Record<string, Value>;
  readonly gbt32960: Record<string, unknown>;
}

export function reportSignals(report: Report, edition: Edition, reissued: boolean): Record<string, Value> {
  const s: Record<string, Value> = {};
  const put = (path: string, v: Value | undefined) => {
    if (v !== undefined) s[path] = v;
  };
  const all = <T>(xs: readonly (T | undefined)[]): T[] | undefined =>
    xs.every((x) => x !== undefined) ? (xs as T[]) : undefined;
  put(`${G}Edition`, edition);
  put(`${G}Reissued`, reissued);
  const { vehicle: v, motors, fuelCell: f, engine: e, position: p, extremes: x, alarms: a } = report.infos;
  if (v) {
    put('Vehicle.Speed', v.speedKmh);
    put('Vehicle.TraveledDistance', v.odometerKm);
    put(`${TB}CurrentVoltage`, v.voltageV);
    put(`${TB}StateOfCharge.Current`, v.socPercent);
    if (v.charging !== undefined) put(`${TB}Charging.IsCharging`, v.charging === 1 || v.charging === 2);
    put('Vehicle.Chassis.Accelerator.PedalPosition', v.acceleratorPercent);
    put('Vehicle.Chassis.Brake.PedalPosition', v.brakePercent);
    if (v.gear !== undefined) {
      // Annex A table A.1 → VSS: 0 neutral, 1..12 forward, 13 R (−1), 14 D (selected 127), 15 P (126).
      if (v.gear <= 12) put('Vehicle.Powertrain.Transmission.CurrentGear', v.gear);
      else if (v.gear === 13) put('Vehicle.Powertrain.Transmission.CurrentGear', -1);
      const selected = v.gear === 0 ? 0 : v.gear === 13 ? -1 : v.gear === 14 ? 127 : v.gear === 15 ? 126 : undefined;
      put('Vehicle.Powertrain.Transmission.SelectedGear', selected);
    }
    put(`${G}VehicleState`, v.state && VEHICLE_STATES[v.state]);
    put(`${G}ChargingState`, v.charging && CHARGING[v.charging]);
    put(`${G}OperatingMode`, v.mode && MODES[v.mode]);
    put(`${G}DCDCState`, v.dcdc && DCDC[v.dcdc]);
    put(`${G}TotalCurrent`, v.currentA);
    put(`${G}InsulationResistance`, v.insulationKohm);
    put(`${G}DriveForce`, v.driveForce);
    put(`${G}BrakeForce`, v.brakeForce);
    put(`${G}BrakeOn`, v.brakeOn);
  }
  if (motors && motors.length > 0) {
    put(
      `${G}Motor.Numbers`,
      motors.map((m) => m.number),
    );
    put(`${G}Motor.States`, all(motors.map((m) => m.state && MOTOR_STATES[m.state])));
    put(`${G}Motor.Speeds`, all(motors.map((m) => m.speedRpm)));
    put(`${G}Motor.Torques`, all(motors.map((m) => m.torqueNm)));
    put(`${G}Motor.Temperatures`, all(motors.map((m) => m.tempC)));
    put(`${G}Motor.ControllerTemperatures`, all(motors.map((m) => m.controllerTempC)));
    if (edition === 2016) {
      put(`${G}Motor.ControllerVoltages`, all(motors.map((m) => m.controllerVoltageV)));
      put(`${G}Motor.ControllerCurrents`, all(motors.map((m) => m.controllerCurrentA)));
    }
  }
  if (f) {
    put(`${G}FuelCell.Voltage`, f.voltageV);
    put(`${G}FuelCell.Current`, f.currentA);
    put(`${G}FuelCell.Consumption`, f.consumptionKgPer100km);
    if (f.probeTempsC.length > 0) put(`${G}FuelCell.ProbeTemperatures`, all(f.probeTempsC));
    put(`${G}FuelCell.HydrogenMaxTemperature`, f.hydrogenMaxTempC);
    put(`${G}FuelCell.HydrogenMaxConcentration`, f.hydrogenMaxConcentrationPpm);
    put(`${G}FuelCell.HydrogenMaxPressure`, f.hydrogenMaxPressureMPa);
    put(`${G}FuelCell.DCDCState`, f.dcdc && DCDC[f.dcdc]);
  }
  if (e) {
    if (e.state !== undefined) put('Vehicle.Powertrain.CombustionEngine.IsRunning', e.state === 1);
    put('Vehicle.Powertrain.CombustionEngine.Speed', e.crankshaftRpm);
    put('Vehicle.Powertrain.FuelSystem.InstantConsumption', e.consumptionLPer100km);
  }
  if (p) {
    put(`${G}Position.Valid`, p.valid);
    put(`${G}Position.Datum`, p.datum && DATUMS[p.datum as 1 | 2 | 3]);
    // Only WGS-84 (the 2016 edition's only system) is a VSS position; GCJ-02 is kept raw.
    if (p.latitude !== undefined && p.longitude !== undefined && (p.datum === undefined || p.datum === 1)) {
      put('Vehicle.CurrentLocation.Latitude', p.latitude);
      put('Vehicle.CurrentLocation.Longitude', p.longitude);
    }
  }
  if (x) {
    put(`${TB}CellVoltage.Max`, x.maxCellVoltageV);
    put(`${TB}CellVoltage.Min`, x.minCellVoltageV);
    put(`${TB}Temperature.Max`, x.maxTempC);
    put(`${TB}Temperature.Min`, x.minTempC);
    put(`${G}Extremes.MaxVoltageSubsystem`, x.maxVoltageSubsystem);
    put(`${G}Extremes.MaxVoltageCell`, x.maxVoltageCell);
    put(`${G}Extremes.MinVoltageSubsystem`, x.minVoltageSubsystem);
    put(`${G}Extremes.MinVoltageCell`, x.minVoltageCell);
    put(`${G}Extremes.MaxTemperatureSubsystem`, x.maxTempSubsystem);
    put(`${G}Extremes.MaxTemperatureProbe`, x.maxTempProbe);
    put(`${G}Extremes.MinTemperatureSubsystem`, x.minTempSubsystem);
    put(`${G}Extremes.MinTemperatureProbe`, x.minTempProbe);
  }
  if (a) {
    put(`${G}Alarm.Level`, a.level);
    put(`${G}Alarm.Flags`, a.flags);
    const known = edition === 2016 ? 19 : GBT32960_ALARMS.length;
    put(
      `${G}Alarm.Active`,
      GBT32960_ALARMS.slice(0, known).filter((_, i) => (a.flags >>> i) & 1),
    );
    put(`${G}Alarm.RESSFaults`, a.ressFaults);
    put(`${G}Alarm.MotorFaults`, a.motorFaults);
    put(`${G}Alarm.EngineFaults`, a.engineFaults);
    put(`${G}Alarm.OtherFaults`, a.otherFaults);
  }
  const packs = report.infos.voltages;
  if (packs && packs.length > 0) {
    put(
      `${G}RESS.Subsystems`,
      packs.map((q) => q.subsystem),
    );
    put(`${G}RESS.Voltages`, all(packs.map((q) => q.voltageV)));
    put(`${G}RESS.Currents`, all(packs.map((q) => q.currentA)));
    put(
      `${G}RESS.CellCounts`,
      packs.map((q) => q.cellVoltagesV.length),
    );
    if (edition === 2016) {
      put(`${G}RESS.CellTotals`, all(packs.map((q) => q.cellTotal)));
      put(`${G}RESS.FirstCells`, all(packs.map((q) => q.firstCell)));
    }
    const cells = packs.flatMap((q) => q.cellVoltagesV);
    if (cells.length > 0) put(`${TB}CellVoltage.CellVoltages`, all(cells));
  }
  const temps = report.infos.temperatures;
  if (temps && temps.length > 0) {
    put(
      `${G}RESS.ProbeSubsystems`,
      temps.map((q) => q.subsystem),
    );
    put(
      `${G}RESS.ProbeCounts`,
      temps.map((q) => q.probeTempsC.length),
    );
    const probes = temps.flatMap((q) => q.probeTempsC);
    if (probes.length > 0) put(`${TB}Temperature.CellTemperature`, all(probes));
  }
  return s;
}

/** The payload the intake stores for one report frame. */
export function reportPayload(report: Report, edition: Edition, reissued: boolean, frame: Buffer): ReportPayload {
  const kept: Record<string, unknown> = { frame: frame.toString('hex') };
  if (report.raw.length > 0) kept.blocks = report.raw.map((b) => ({ type: b.type, data: b.data.toString('hex') }));
  if (report.unparsed) kept.unparsed = { type: report.unparsed.type, data: report.unparsed.data.toString('hex') };
  return { ts: report.time, signals: reportSignals(report, edition, reissued), gbt32960: kept };
}
