/**
 * Shekara's catalog branch for GB/T 32960 data that VSS has no signal for:
 * `Vehicle.Shekara.GBT32960.*` (docs/gbt32960.md lists every entry with its source field).
 * Everything here is the car's technical state — no position, no identifier — so the class is
 * `technical` unless stated; a policy selects it like any other signal.
 */
import type { PrivacyClass } from './classes.js';

export const GBT32960_BRANCH = 'Vehicle.Shekara.GBT32960';

/** General alarm flags, bit n = row n of 2016 table 18 (0..18) and 2025 table 24 (19..27). */
export const GBT32960_ALARMS = [
  'TEMPERATURE_DIFFERENCE',
  'BATTERY_HIGH_TEMPERATURE',
  'RESS_OVERVOLTAGE',
  'RESS_UNDERVOLTAGE',
  'SOC_LOW',
  'CELL_OVERVOLTAGE',
  'CELL_UNDERVOLTAGE',
  'SOC_HIGH',
  'SOC_JUMP',
  'RESS_MISMATCH',
  'CELL_CONSISTENCY_POOR',
  'INSULATION',
  'DCDC_TEMPERATURE',
  'BRAKE_SYSTEM',
  'DCDC_STATE',
  'MOTOR_CONTROLLER_TEMPERATURE',
  'HIGH_VOLTAGE_INTERLOCK',
  'MOTOR_TEMPERATURE',
  'RESS_OVERCHARGE',
  'MOTOR_OVERSPEED',
  'MOTOR_OVERCURRENT',
  'SUPERCAPACITOR_OVERTEMPERATURE',
  'SUPERCAPACITOR_OVERPRESSURE',
  'RESS_THERMAL_EVENT',
  'HYDROGEN_LEAK',
  'HYDROGEN_PRESSURE_ABNORMAL',
  'HYDROGEN_TEMPERATURE_ABNORMAL',
  'FUEL_CELL_STACK_OVERTEMPERATURE',
] as const;

export interface BuiltinSignal {
  readonly path: string;
  readonly datatype: string;
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly allowed?: readonly string[];
  /** Longest list accepted (default: the catalog's MAX_LIST). */
  readonly maxItems?: number;
  readonly class: PrivacyClass;
}

/** A data unit holds at most 65531 bytes: no list of 2-byte values is longer than this. */
export const GBT32960_MAX_ITEMS = 32_768;

const t = (
  leaf: string,
  datatype: string,
  more: Omit<BuiltinSignal, 'path' | 'datatype' | 'class'> = {},
): BuiltinSignal => ({ path: `${GBT32960_BRANCH}.${leaf}`, datatype, class: 'technical', ...more });
const list = (leaf: string, datatype: string, unit?: string): BuiltinSignal =>
  t(leaf, `${datatype}[]`, { maxItems: GBT32960_MAX_ITEMS, ...(unit ? { unit } : {}) });

export const GBT32960_SIGNALS: readonly BuiltinSignal[] = [
  t('Edition', 'uint16', { min: 2016, max: 2025 }),
  t('Reissued', 'boolean'),
  t('VehicleState', 'string', { allowed: ['STARTED', 'SHUT_DOWN', 'OTHER'] }),
  t('ChargingState', 'string', {
    allowed: ['CHARGING_PARKED', 'CHARGING_DRIVING', 'NOT_CHARGING', 'CHARGE_COMPLETE'],
  }),
  t('OperatingMode', 'string', { allowed: ['ELECTRIC', 'HYBRID', 'FUEL'] }),
  t('DCDCState', 'string', { allowed: ['WORKING', 'OFF'] }),
  t('TotalCurrent', 'float', { unit: 'A', min: -3000, max: 3000 }),
  t('InsulationResistance', 'uint32', { unit: 'kOhm', max: 60_000 }),
  t('DriveForce', 'boolean'),
  t('BrakeForce', 'boolean'),
  t('BrakeOn', 'boolean'),
  list('Motor.Numbers', 'uint8'),
  list('Motor.States', 'string'),
  list('Motor.Speeds', 'float', 'rpm'),
  list('Motor.Torques', 'float', 'Nm'),
  list('Motor.Temperatures', 'float', 'Celsius'),
  list('Motor.ControllerTemperatures', 'float', 'Celsius'),
  list('Motor.ControllerVoltages', 'float', 'V'),
  list('Motor.ControllerCurrents', 'float', 'A'),
  t('FuelCell.Voltage', 'float', { unit: 'V' }),
  t('FuelCell.Current', 'float', { unit: 'A' }),
  t('FuelCell.Consumption', 'float', { unit: 'kg/100km' }),
  list('FuelCell.ProbeTemperatures', 'float', 'Celsius'),
  t('FuelCell.HydrogenMaxTemperature', 'float', { unit: 'Celsius' }),
  t('FuelCell.HydrogenMaxConcentration', 'uint16', { unit: 'ppm' }),
  t('FuelCell.HydrogenMaxPressure', 'float', { unit: 'MPa' }),
  t('FuelCell.DCDCState', 'string', { allowed: ['WORKING', 'OFF'] }),
  t('Extremes.MaxVoltageSubsystem', 'uint8'),
  t('Extremes.MaxVoltageCell', 'uint8'),
  t('Extremes.MinVoltageSubsystem', 'uint8'),
  t('Extremes.MinVoltageCell', 'uint8'),
  t('Extremes.MaxTemperatureSubsystem', 'uint8'),
  t('Extremes.MaxTemperatureProbe', 'uint8'),
  t('Extremes.MinTemperatureSubsystem', 'uint8'),
  t('Extremes.MinTemperatureProbe', 'uint8'),
  t('Alarm.Level', 'uint8', { max: 3 }),
  t('Alarm.Flags', 'uint32'),
  t('Alarm.Active', 'string[]', { allowed: GBT32960_ALARMS }),
  list('Alarm.RESSFaults', 'uint32'),
  list('Alarm.MotorFaults', 'uint32'),
  list('Alarm.EngineFaults', 'uint32'),
  list('Alarm.OtherFaults', 'uint32'),
  list('RESS.Subsystems', 'uint8'),
  list('RESS.Voltages', 'float', 'V'),
  list('RESS.Currents', 'float', 'A'),
  list('RESS.CellTotals', 'uint16'),
  list('RESS.FirstCells', 'uint16'),
  list('RESS.CellCounts', 'uint16'),
  list('RESS.ProbeSubsystems', 'uint8'),
  list('RESS.ProbeCounts', 'uint16'),
  t('Position.Valid', 'boolean'),
  t('Position.Datum', 'string', { allowed: ['WGS84', 'GCJ02', 'OTHER'] }),
];

/** VSS lists a 32960 frame fills beyond 64 items (a pack of 200 cells). */
export const GBT32960_LONG_VSS_LISTS: readonly string[] = [
  'Vehicle.Powertrain.TractionBattery.CellVoltage.CellVoltages',
  'Vehicle.Powertrain.TractionBattery.Temperature.CellTemperature',
];
