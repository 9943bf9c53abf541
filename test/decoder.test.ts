import { describe, expect, it } from 'vitest';
import { decodeTelemetry, DecodeError, VIN_SIGNAL } from '../src/decoder.js';

const VIN = 'LSHKZ000000000001';
const decode = (v: unknown) => decodeTelemetry(Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), VIN);

describe('telemetry decoder', () => {
  it('maps known payload keys to VSS paths', () => {
    const d = decode({
      ts: '2026-11-23T10:00:00Z',
      position: { lat: 43.2, lon: 76.9, heading: 90 },
      speed: 50,
      odometer: 123.4,
      ignition: false,
      battery: { soc: 80 },
      dtc: ['P0300'],
    });
    expect(d.observedAt).toBe(Date.parse('2026-11-23T10:00:00Z'));
    expect(d.signals).toEqual({
      [VIN_SIGNAL]: VIN,
      'Vehicle.CurrentLocation.Latitude': 43.2,
      'Vehicle.CurrentLocation.Longitude': 76.9,
      'Vehicle.CurrentLocation.Heading': 90,
      'Vehicle.Speed': 50,
      'Vehicle.TraveledDistance': 123.4,
      'Vehicle.LowVoltageSystemState': 'OFF',
      'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 80,
      'Vehicle.OBD.DTCList': ['P0300'],
    });
  });

  it('puts owner and driver data in the account section, not among the signals', () => {
    const d = decode({
      account: { owner: { name: 'A', iin: '900101300123', email: 'a@b.kz' }, driver: { phone: '+7' } },
    });
    expect(d.account).toEqual({
      'Account.Owner.Name': 'A',
      'Account.Owner.NationalId': '900101300123',
      'Account.Owner.Email': 'a@b.kz',
      'Account.Driver.Phone': '+7',
    });
    expect(Object.keys(d.signals)).toEqual([VIN_SIGNAL]);
  });

  it('lists unknown keys without decoding them', () => {
    const d = decode({
      speed: 1,
      extra: { deep: [1, 2] },
      position: { lat: 1, lon: 2, fix: '3d' },
      account: { owner: { pet: 'cat' } },
    });
    expect(d.unknownKeys).toEqual(['extra', 'position.fix', 'account.owner.pet']);
    expect(d.account).toEqual({});
  });

  it('reads a key by its dotted name, whether it is sent nested, flat, or half of each', () => {
    const d = decode({
      'position.lat': 1,
      position: { lon: 2, 'x.y': 3 },
      account: { 'owner.name': 'A', driver: { name: 'B' }, 'driver.pet': 'cat' },
      'account.owner': { phone: '+7' },
    });
    expect(d.signals).toMatchObject({ 'Vehicle.CurrentLocation.Latitude': 1, 'Vehicle.CurrentLocation.Longitude': 2 });
    expect(d.account).toEqual({
      'Account.Owner.Name': 'A',
      'Account.Driver.Name': 'B',
      'Account.Owner.Phone': '+7',
    });
    expect(d.unknownKeys).toEqual(['position.x.y', 'account.driver.pet']);
    expect(() => decode({ account: { owner: 'A' } })).toThrow('account.owner: expected an object, got string');
    expect(() => decode({ 'account.owner.name': 1 })).toThrow('account.owner.name: expected a string');
  });

  it('accepts any text, emoji included, in string values', () => {
    const ARTIST = 'Vehicle.Cabin.Infotainment.Media.Played.Artist';
    expect(decode({ signals: { [ARTIST]: 'Алматы 🚗' } }).signals[ARTIST]).toBe('Алматы 🚗');
  });

  it('accepts VSS paths sent as they are under "signals"', () => {
    expect(
      decode({ signals: { 'Vehicle.Exterior.AirTemperature': -12 } }).signals['Vehicle.Exterior.AirTemperature'],
    ).toBe(-12);
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['a string', '"x"', /must be a JSON object, got string/],
    ['null', 'null', /got null/],
    ['NaN-like speed', '{"speed":"NaN"}', /speed: expected a float/],
    ['a position that is not an object', '{"position":5}', /position: expected an object/],
    ['a malformed trouble code', '{"dtc":["XYZ"]}', /dtc: an item: does not match the pattern/],
    ['a VIN signal smuggled under "signals"', `{"signals":{"${VIN_SIGNAL}":"x"}}`, /not an accepted VSS signal path/],
    [
      'an account value that is not a string',
      '{"account":{"owner":{"name":{"first":"A"}}}}',
      /account.owner.name: expected a string/,
    ],
    [
      'a NUL character in a value',
      '{"account":{"owner":{"name":"A\\u0000B"}}}',
      /account.owner.name: holds U\+0000 or an unpaired surrogate/,
    ],
    [
      'an unpaired surrogate in a VSS string',
      '{"signals":{"Vehicle.Cabin.Note":"\\ud800"}}',
      /signals.Vehicle.Cabin.Note: holds U\+0000/,
    ],
    ['a NUL character in an unknown key', '{"ex\\u0000tra":1}', /a key: holds U\+0000/],
    ['a fractional ts', '{"ts":1796298000000.5}', /^ts: expected a whole number of milliseconds/],
    ['a duplicate vin', `{"vin":"LZZZZ000000000009","vin":"${VIN}"}`, /^vin: duplicate key$/],
  ])('rejects %s with a reason', (_what, body, reason) => {
    expect(() => decode(body)).toThrow(DecodeError);
    expect(() => decode(body)).toThrow(reason);
  });

  it('treats names of Object.prototype members as unknown keys, never as table entries', () => {
    const keys = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
    const d = decode(`{${keys.map((k) => `"${k}":1`).join(',')}}`);
    expect(d.unknownKeys).toEqual(keys);
    expect(Object.keys(d.signals)).toEqual([VIN_SIGNAL]);
  });

  it.each([
    ['a value out of range', '{"speed":987654}', '987654'],
    ['a JSON syntax error', '{"speed":secret-value}', 'secret'],
    ['a key that is not a plain name', '{"signals":{"my secret 12345":1}}', 'secret'],
  ])('names the field and the rule, never the value, for %s', (_what, body, value) => {
    expect(() => decode(body)).toThrow(DecodeError);
    try {
      decode(body);
    } catch (err) {
      expect((err as Error).message).not.toContain(value);
    }
  });

  describe('typed by the signal catalog (red-team L6)', () => {
    it.each([
      [
        'Vehicle.Speed 1e308',
        { signals: { 'Vehicle.Speed': 1e308 } },
        /signals.Vehicle.Speed: outside the float range/,
      ],
      [
        'Vehicle.Speed -1e308',
        { signals: { 'Vehicle.Speed': -1e308 } },
        /signals.Vehicle.Speed: outside the float range/,
      ],
      ['Vehicle.Speed "fast"', { signals: { 'Vehicle.Speed': 'fast' } }, /signals.Vehicle.Speed: expected a float/],
      [
        'a state of charge of 500',
        { signals: { 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 500 } },
        /above the maximum 100/,
      ],
      ['free text as a DTC list', { signals: { 'Vehicle.OBD.DTCList': 'P0300 Ivan' } }, /expected a list of string/],
      ['latitude 95', { signals: { 'Vehicle.CurrentLocation.Latitude': 95 } }, /above the maximum 90/],
      ['longitude 500', { signals: { 'Vehicle.CurrentLocation.Longitude': 500 } }, /above the maximum 180/],
      [
        'signals overriding the checked position',
        { position: { lat: 43.2, lon: 76.9 }, signals: { 'Vehicle.CurrentLocation.Latitude': 10 } },
        /already sent under its payload key/,
      ],
      [
        'signals before the checked position',
        '{"signals":{"Vehicle.CurrentLocation.Latitude":10},"position":{"lat":43.2,"lon":76.9}}',
        /already sent under its payload key/,
      ],
    ])('quarantines %s with the reason', (_what, body, reason) => {
      expect(() => decode(body)).toThrow(reason);
    });

    it('keeps a path outside the catalog in the country: listed unknown, never a signal (M6)', () => {
      const d = decode({
        signals: {
          'Vehicle.Powertrain.Note': 'Ivan Petrov +77011234567',
          'Vehicle.Powertrain.TractionBattery.Lat': 43.238949,
          'Vehicle.Speed': 50,
        },
      });
      expect(d.signals).toEqual({ [VIN_SIGNAL]: VIN, 'Vehicle.Speed': 50 });
      expect(d.unknownKeys).toEqual([
        'signals.Vehicle.Powertrain.Note',
        'signals.Vehicle.Powertrain.TractionBattery.Lat',
      ]);
    });
  });
});
