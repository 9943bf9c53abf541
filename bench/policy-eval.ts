/**
 * Policy evaluation rate, one core: a realistic 40-signal record (position, speed, battery,
 * powertrain, cabin, OBD, account data, unknown keys) against a 3-purpose policy that uses
 * pseudonymize + generalize (H3) + round, with wildcards. Not a test: a number to report.
 *
 *   node --import tsx bench/policy-eval.ts [seconds]
 */
import { createPolicyEngine } from '../src/policy/index.js';
import type { CanonicalRecord } from '../src/record.js';
import { decodeTelemetry } from '../src/ingest/decoder.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

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

// Extra VSS signals a modern EV reports besides the decoder's own keys (docs/telemetry.md).
const EXTRA = [
  'Vehicle.Powertrain.TractionBattery.StateOfHealth',
  'Vehicle.Powertrain.TractionBattery.CurrentVoltage',
  'Vehicle.Powertrain.TractionBattery.CurrentCurrent',
  'Vehicle.Powertrain.TractionBattery.Temperature.Average',
  'Vehicle.Powertrain.TractionBattery.Temperature.Max',
  'Vehicle.Powertrain.TractionBattery.Temperature.Min',
  'Vehicle.Powertrain.TractionBattery.Range',
  'Vehicle.Powertrain.ElectricMotor.Speed',
  'Vehicle.Powertrain.ElectricMotor.Torque',
  'Vehicle.Powertrain.ElectricMotor.Temperature',
  'Vehicle.Powertrain.ElectricMotor.Power',
  'Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure',
  'Vehicle.Chassis.Axle.Row1.Wheel.Right.Tire.Pressure',
  'Vehicle.Chassis.Axle.Row2.Wheel.Left.Tire.Pressure',
  'Vehicle.Chassis.Axle.Row2.Wheel.Right.Tire.Pressure',
  'Vehicle.Chassis.SteeringWheel.Angle',
  'Vehicle.Chassis.Brake.PedalPosition',
  'Vehicle.Chassis.Accelerator.PedalPosition',
  'Vehicle.Cabin.Door.Row1.Left.IsOpen',
  'Vehicle.Cabin.Door.Row1.Right.IsOpen',
  'Vehicle.Cabin.Seat.Row1.Pos1.IsBelted',
  'Vehicle.Exterior.AirTemperature',
  'Vehicle.Exterior.Humidity',
  'Vehicle.ADAS.ABS.IsEngaged',
  'Vehicle.ADAS.ESC.IsEngaged',
  'Vehicle.Body.Lights.Beam.Low.IsOn',
  'Vehicle.Acceleration.Longitudinal',
];

/** A car's payload, decoded by the gateway's own decoder: the record ingest hands the policy. */
function record(i: number): CanonicalRecord {
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
    signals: Object.fromEntries(EXTRA.map((p, j) => [p, 10 + j * 1.37])),
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

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-bench-'));
  writeFileSync(path.join(dir, 'p.yaml'), POLICY);
  const engine = await createPolicyEngine(
    { oems: [{ id: 'bench-oem', policyFile: path.join(dir, 'p.yaml') }], epochDays: 30 },
    { masterKey: Buffer.alloc(32, 1) },
  );
  // 1,000 vehicles, positions spread over Almaty, so H3 cells and pseudonyms vary.
  const records = Array.from({ length: 1000 }, (_, i) => record(i));
  const nSignals = Object.keys(records[0]!.signals).length + Object.keys(records[0]!.account).length;
  const nAccount = Object.keys(records[0]!.account).length;
  let projections = 0;
  // Awaited one by one, as intake does: the rate includes the cost of `project` being async.
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) projections += (await engine.project(records[i % records.length]!)).length;
  };
  await run(200_000); // warm-up: JIT, caches
  projections = 0;
  let n = 0;
  // CPU time of this process, not wall time: "per core" must not depend on what else the
  // machine runs (a shared CI box or a laptop). Wall time is printed alongside.
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const until = start + BigInt(seconds * 1e9);
  while (process.hrtime.bigint() < until) {
    await run(10_000);
    n += 10_000;
  }
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu0);
  const s = (used.user + used.system) / 1e6;
  const rate = Math.round(n / s);
  console.log(`command: node --import tsx bench/policy-eval.ts ${seconds}`);
  console.log(
    `record: ${nSignals} signals (${nAccount} of them account), 2 unknown keys, decoded by the gateway's decoder; policy: 3 purposes, pseudonymize + generalize (H3 res 7) + round, wildcards`,
  );
  console.log(
    `evaluated ${n.toLocaleString('en')} records in ${s.toFixed(2)} s of CPU (${wall.toFixed(2)} s wall), one thread → ${rate.toLocaleString('en')} records/s (${(projections / n).toFixed(2)} projections per record, ${(1e6 / rate).toFixed(2)} µs per record)`,
  );
}

void main();
