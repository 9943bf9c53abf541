/** The signal catalog: COVESA VSS types and ranges, Shekara's classes, operator extensions. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkValue, createCatalog, defaultCatalog, VSS_RELEASE } from '../../src/catalog/index.js';
import { shekara } from '../helpers/cli.js';

const cat = defaultCatalog();
const check = (p: string, v: unknown) => checkValue(cat.lookup(p)!, v);

describe('catalog › COVESA VSS', () => {
  it('is the pinned release, with types, units and ranges', () => {
    expect(VSS_RELEASE).toBe('v6.0 (20c609bf)');
    const soc = cat.lookup('Vehicle.Powertrain.TractionBattery.StateOfCharge.Current')!;
    expect(soc).toMatchObject({ datatype: 'float', unit: 'percent', min: 0, max: 100, class: 'technical' });
    expect(cat.lookup('Vehicle.LowVoltageSystemState')!.allowed).toContain('ON');
    // Instances are expanded: Row1.DriverSide exists, Row9 does not.
    expect(cat.lookup('Vehicle.Cabin.Door.Row1.DriverSide.IsOpen')?.datatype).toBe('boolean');
    expect(cat.lookup('Vehicle.Cabin.Door.Row9.DriverSide.IsOpen')).toBeUndefined();
  });

  it('refuses a wrong type or an out-of-range value with a reason that never repeats the value', () => {
    expect(check('Vehicle.Speed', 1e308)).toMatch(/float range/);
    expect(check('Vehicle.Speed', 501)).toMatch(/maximum 500/);
    expect(check('Vehicle.Speed', -51)).toMatch(/minimum -50/);
    expect(check('Vehicle.Speed', 'fast')).toBe('expected a float');
    expect(check('Vehicle.Powertrain.TractionBattery.StateOfCharge.Current', 500)).toMatch(/maximum 100/);
    expect(check('Vehicle.OBD.DTCList', 'P0300 Ivan')).toMatch(/list/);
    expect(check('Vehicle.OBD.DTCList', ['P0300 Ivan'])).toMatch(/pattern/);
    expect(check('Vehicle.CurrentLocation.Latitude', 95)).toMatch(/maximum 90/);
    expect(check('Vehicle.CurrentLocation.Longitude', 500)).toMatch(/maximum 180/);
    expect(check('Vehicle.Powertrain.FuelSystem.RelativeLevel', 50.5)).toMatch(/integer/);
    expect(check('Vehicle.LowVoltageSystemState', 'SIDEWAYS')).toMatch(/allowed/);
    expect(check('Vehicle.Speed', 54.2)).toBeUndefined();
    expect(check('Vehicle.OBD.DTCList', ['P0300', 'U0100'])).toBeUndefined();
  });
});

describe('catalog › privacy classes', () => {
  it('classes by branch, with coordinates always location', () => {
    expect(cat.classOf('Vehicle.Speed')).toBe('technical');
    expect(cat.classOf('Vehicle.VehicleIdentification.VIN')).toBe('identifier');
    expect(cat.classOf('Vehicle.VehicleIdentification.LicensePlate')).toBe('identifier');
    expect(cat.classOf('Vehicle.VehicleIdentification.Year')).toBe('technical');
    expect(cat.classOf('Vehicle.Cabin.Infotainment.Navigation.DestinationSet.Latitude')).toBe('location');
    expect(cat.classOf('Vehicle.Powertrain.TractionBattery.Charging.Location.Longitude')).toBe('location');
    expect(cat.classOf('Vehicle.Powertrain.TractionBattery.Lat')).toBe('technical'); // not in VSS: not a signal at all
    expect(cat.lookup('Vehicle.Powertrain.TractionBattery.Lat')).toBeUndefined();
    expect(cat.classOf('Vehicle.Driver.HeartRate')).toBe('sensitive');
    expect(cat.classOf('Vehicle.Cabin.Infotainment.Media.Played.Artist')).toBe('personal');
    expect(cat.classOf('Account.Owner.NationalId')).toBe('identifier');
    expect(cat.classOf('Account.Owner.Name')).toBe('personal');
    // An unconstrained string is free text.
    expect(cat.classOf('Vehicle.Powertrain.CombustionEngine.EngineCode')).toBe('free-text');
  });

  it('takes an operator branch with types and classes, and keeps a coordinate location', () => {
    const c = createCatalog({
      extensions: [
        {
          path: 'Vehicle.Private.Acme.CellHealth',
          datatype: 'float',
          unit: 'percent',
          min: 0,
          max: 100,
          class: 'technical',
        },
        { path: 'Vehicle.Private.Acme.Depot.Latitude', datatype: 'double', min: -90, max: 90, class: 'location' },
      ],
      classes: { 'Vehicle.Body': 'personal' },
    });
    expect(c.lookup('Vehicle.Private.Acme.CellHealth')).toMatchObject({ class: 'technical', origin: 'config' });
    expect(checkValue(c.lookup('Vehicle.Private.Acme.CellHealth')!, 101)).toMatch(/maximum/);
    expect(c.classOf('Vehicle.Body.Hood.IsOpen')).toBe('personal');
    expect(c.isBranch('Vehicle.Private.Acme')).toBe(true);
    expect(() =>
      createCatalog({
        extensions: [{ path: 'Vehicle.Private.Home.Latitude', datatype: 'double', class: 'technical' }],
      }),
    ).toThrow(/always location/);
  });
});

describe('shekara catalog', () => {
  it('show prints type, range, class and release; an unknown path exits 2', async () => {
    const r = await shekara('catalog', 'show', 'Vehicle.Speed');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/class:\s+technical/);
    expect(r.stdout).toMatch(/max:\s+500/);
    expect(r.stdout).toContain('v6.0');
    const u = await shekara('catalog', 'show', 'Vehicle.Powertrain.Note');
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('not in the catalog');
  });

  it('search finds paths by words; a config adds private branches', async () => {
    const r = await shekara('catalog', 'search', 'destination latitude');
    expect(r.stdout).toContain('Vehicle.Cabin.Infotainment.Navigation.DestinationSet.Latitude  location');
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-cat-'));
    const file = path.join(dir, 'c.yaml');
    writeFileSync(
      file,
      'catalog:\n  extensions:\n    - path: Vehicle.Private.Acme.CellHealth\n      datatype: float\n      class: technical\n',
    );
    const c = await shekara('catalog', 'search', 'acme', '-c', file);
    expect(c.stdout).toContain('Vehicle.Private.Acme.CellHealth  technical  float');
  });
});

describe('catalog › the odometer', () => {
  it('says the unit the data is in: km, as shekara-json and GB/T 32960 send it (VSS v6 says m)', () => {
    const spec = defaultCatalog().lookup('Vehicle.TraveledDistance')!;
    expect(spec.unit).toBe('km');
    expect(checkValue(spec, 10_234.7)).toBeUndefined();
  });
});
