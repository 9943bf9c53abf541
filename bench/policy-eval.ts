/**
 * Policy evaluation rate, one core: a realistic 40-signal record (position, speed, battery,
 * powertrain, cabin, OBD, account data, unknown keys) against a 3-purpose policy that uses
 * pseudonymize + generalize (H3) + round, with wildcards. Not a test: a number to report.
 *
 *   node --import tsx bench/policy-eval.ts [seconds]   measure for `seconds` of CPU (default 5)
 *   node --import tsx bench/policy-eval.ts --smoke     1,000 records, no warm-up: proves it runs, not a figure
 */
import { createPolicyEngine } from '../src/policy/index.js';
import type { CanonicalRecord } from '../src/record.js';
import { decodeTelemetry } from '../src/decoder.js';
import { checkValue, defaultCatalog, type Catalog } from '../src/catalog/index.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const POLICY = `
oem: bench-oem
purposes:
  - id: battery-warranty
    description: Traction battery diagnostics under warranty.
    legalBasis: contract
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.Powertrain.TractionBattery.**: pass
      Vehicle.TraveledDistance: { transform: round, step: 100 }
      Vehicle.OBD.DTCList: pass
  - id: fleet-map
    description: Coarse positions for charging-network planning.
    legalBasis: contract
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.CurrentLocation: { transform: generalize, method: h3, resolution: 7 }
      Vehicle.Speed: { transform: round, step: 5 }
      Vehicle.Powertrain.TractionBattery.StateOfCharge.Current: { transform: round, step: 5 }
  - id: drivetrain-wear
    description: Drivetrain wear models.
    legalBasis: contract
    fields:
      Vehicle.Speed: { transform: round, step: 1 }
      Vehicle.Powertrain.ElectricMotor.*: pass
      Vehicle.Chassis.**: { transform: round, step: 0.5 }
      Vehicle.Cabin.HVAC.AmbientAirTemperature: { transform: round, step: 1 }
`;

// Extra VSS signals a modern EV reports besides the decoder's own keys (docs/telemetry.md), each
// with a value of its catalog datatype and unit (VSS v6: Range is uint32 metres, motor torque
// int16 Nm, tyre pressure uint16 kPa). `typedFixture` checks them against the catalog at start,
// so a catalog change names the path here instead of failing deep in the decoder.
const EXTRA: Readonly<Record<string, number | boolean>> = {
  'Vehicle.Powertrain.TractionBattery.StateOfHealth': 96.5,
  'Vehicle.Powertrain.TractionBattery.CurrentVoltage': 396.2,
  'Vehicle.Powertrain.TractionBattery.CurrentCurrent': -42.3,
  'Vehicle.Powertrain.TractionBattery.Temperature.Average': 24.1,
  'Vehicle.Powertrain.TractionBattery.Temperature.Max': 27.3,
  'Vehicle.Powertrain.TractionBattery.Temperature.Min': 22,
  'Vehicle.Powertrain.TractionBattery.Range': 312_000,
  'Vehicle.Powertrain.ElectricMotor.Speed': 4210.5,
  'Vehicle.Powertrain.ElectricMotor.Torque': 182,
  'Vehicle.Powertrain.ElectricMotor.Temperature': 61.2,
  'Vehicle.Powertrain.ElectricMotor.Power': 48,
  'Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure': 240,
  'Vehicle.Chassis.Axle.Row1.Wheel.Right.Tire.Pressure': 241,
  'Vehicle.Chassis.Axle.Row2.Wheel.Left.Tire.Pressure': 236,
  'Vehicle.Chassis.Axle.Row2.Wheel.Right.Tire.Pressure': 238,
  'Vehicle.Chassis.SteeringWheel.Angle': -12,
  'Vehicle.Chassis.Brake.PedalPosition': 0,
  'Vehicle.Chassis.Accelerator.PedalPosition': 23,
  'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen': false,
  'Vehicle.Cabin.Door.Row1.PassengerSide.IsOpen': false,
  'Vehicle.Cabin.Seat.Row1.DriverSide.IsBelted': true,
  'Vehicle.Exterior.AirTemperature': 3.5,
  'Vehicle.Exterior.Humidity': 61,
  'Vehicle.ADAS.ABS.IsEngaged': false,
  'Vehicle.ADAS.ESC.IsEngaged': false,
  'Vehicle.Body.Lights.Beam.Low.IsOn': true,
  'Vehicle.Acceleration.Longitudinal': 0.42,
};

/** Every fixture signal is in the catalog and fits its type, or the bench stops naming the path. */
export function typedFixture(catalog: Catalog = defaultCatalog()): Record<string, number | boolean> {
  for (const [p, v] of Object.entries(EXTRA)) {
    const spec = catalog.lookup(p);
    if (!spec) throw new Error(`bench fixture: ${p} is not in the catalog (${catalog.release})`);
    const reason = checkValue(spec, v);
    if (reason) throw new Error(`bench fixture: ${p}: ${reason}`);
  }
  return { ...EXTRA };
}

/** A car's payload, decoded by the gateway's own decoder: the record ingest hands the policy. */
export function record(i: number): CanonicalRecord {
  const vin = `LSHKZ${String(i).padStart(12, '0')}`;
  const payload = {
    ts: 1_795_000_000_000 + i,
    position: { lat: 43.2 + (i % 97) * 0.001, lon: 76.85 + (i % 89) * 0.001, heading: 181.5, altitude: 780 },
    speed: 54.2,
    odometer: 10_234.7,
    ignition: true,
    battery: { soc: 80.5, voltage: 12.6 },
    cabin: { temperature: 21.5 },
    dtc: ['P0A80'],
    signals: EXTRA,
    account: { owner: { name: 'Aigerim Nurlanovna', phone: '+7 701 555 0042', email: 'owner42@example.kz' } },
    hu_firmware: 'HU-8.2.114-cn',
    tbox_session: 'sess-1',
  };
  const d = decodeTelemetry(Buffer.from(JSON.stringify(payload)), vin);
  const t = d.observedAt ?? 0;
  return {
    id: `r${i}`,
    vin,
    oem: 'bench-oem',
    channel: 'mqtt',
    receivedAt: t,
    observedAt: t,
    signals: d.signals,
    account: d.account,
    unknownKeys: d.unknownKeys,
  };
}

/**
 * The measurement: `args` as the script's (`--smoke`, or the seconds to measure), each line of
 * the result handed to `print`. Exported so the test runs the smoke mode in its own process,
 * without a second node and tsx start.
 */
export async function policyEval(args: readonly string[], print: (line: string) => void): Promise<void> {
  const smoke = args.includes('--smoke');
  const seconds = smoke ? 0 : Number(args[0] ?? 5);
  typedFixture();
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-bench-'));
  writeFileSync(path.join(dir, 'p.yaml'), POLICY);
  const engine = await createPolicyEngine(
    { oems: [{ id: 'bench-oem', policyFile: path.join(dir, 'p.yaml') }], epochDays: 30 },
    { masterKey: Buffer.alloc(32, 1) },
  );
  // 1,000 vehicles, positions spread over Almaty, so H3 cells and pseudonyms vary.
  const records = Array.from({ length: 1000 }, (_, i) => record(i));
  const first = records[0]!;
  const nSignals = Object.keys(first.signals).length + Object.keys(first.account).length;
  const nAccount = Object.keys(first.account).length;
  let projections = 0;
  // Awaited one by one, as intake does: the rate includes the cost of `project` being async.
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) projections += (await engine.project(records[i % records.length]!)).length;
  };
  if (!smoke) await run(200_000); // warm-up: JIT, caches
  projections = 0;
  let n = 0;
  // CPU time of this process, not wall time: "per core" must not depend on what else the
  // machine runs (a shared CI box or a laptop). Wall time is printed alongside.
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const until = start + BigInt(seconds * 1e9);
  const batch = smoke ? records.length : 10_000;
  do {
    await run(batch);
    n += batch;
  } while (process.hrtime.bigint() < until);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu0);
  const s = (used.user + used.system) / 1e6;
  const rate = Math.round(n / s);
  print(`command: node --import tsx bench/policy-eval.ts ${smoke ? '--smoke' : seconds}`);
  print(
    `record: ${nSignals} signals (${nAccount} of them account), ${first.unknownKeys.length} unknown keys, decoded by the gateway's decoder; policy: 3 purposes, pseudonymize + generalize (H3 res 7) + round, wildcards`,
  );
  print(
    `evaluated ${n.toLocaleString('en')} records in ${s.toFixed(2)} s of CPU (${wall.toFixed(2)} s wall), one thread → ${rate.toLocaleString('en')} records/s (${(projections / n).toFixed(2)} projections per record, ${(1e6 / rate).toFixed(2)} µs per record)${smoke ? ' — smoke run, not a figure' : ''}`,
  );
}

// Run only as a script: the test imports the fixture without starting a measurement.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  void policyEval(process.argv.slice(2), (line) => console.log(line));
