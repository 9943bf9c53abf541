/**
 * Property-based: for arbitrary records with arbitrary extra signals, account data and junk,
 * what a policy lets out holds only fields the policy names, never an account field it does
 * not name, and never the raw VIN in any case or encoding.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { engineFor, onePurpose, LAT, LON } from './helpers.js';
import type { CanonicalRecord, SignalValue } from '../../src/record.js';

const POLICY = `oem: acme
purposes:
  - id: diag
    description: diagnostics
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.Powertrain.**: pass
      Vehicle.Speed: { transform: round, step: 5 }
      Vehicle.Cabin.*: pass
      Account.Owner.Email: { transform: pseudonymize, reason: recall contact }
  - id: map
    description: coarse positions
    fields:
      Vehicle.CurrentLocation: { transform: generalize, method: grid, cellMeters: 1000, emit: centre }
      Vehicle.TraveledDistance: { transform: round, step: 100 }
      Vehicle.VehicleIdentification.Year: pass
`;
const NAMED = (path: string) =>
  path === 'Vehicle.VehicleIdentification.VIN' ||
  path.startsWith('Vehicle.Powertrain.') ||
  path === 'Vehicle.Speed' ||
  /^Vehicle\.(Cabin|VehicleIdentification)\.[^.]+$/.test(path) ||
  path === 'Account.Owner.Email' ||
  path === LAT ||
  path === LON ||
  path === 'Vehicle.TraveledDistance';

const seg = fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,8}$/);
const vssPath = fc
  .array(seg, { minLength: 1, maxLength: 5 })
  .chain((segs) =>
    fc
      .constantFrom(
        'Vehicle',
        'Vehicle.Powertrain',
        'Vehicle.Cabin',
        'Vehicle.VehicleIdentification',
        'Vehicle.CurrentLocation',
      )
      .map((root) => `${root}.${segs.join('.')}`),
  );
const value: fc.Arbitrary<SignalValue> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
);
const vin = fc.stringMatching(/^[A-HJ-NPR-Z0-9]{17}$/);
const accountPath = fc.tuple(fc.constantFrom('Owner', 'Driver', 'Passenger'), seg).map(([a, b]) => `Account.${a}.${b}`);

const record = fc
  .record({
    vin,
    signals: fc.dictionary(vssPath, value, { maxKeys: 30 }),
    account: fc.dictionary(accountPath, fc.string(), { maxKeys: 6 }),
    email: fc.option(fc.emailAddress(), { nil: undefined }),
    junk: fc.array(fc.string(), { maxLength: 5 }),
    lat: fc.option(fc.double({ min: -80, max: 80, noNaN: true }), { nil: undefined }),
    lon: fc.option(fc.double({ min: -179, max: 179, noNaN: true }), { nil: undefined }),
    // The VIN smuggled into other fields: they must then not be named, or be transformed.
    vinIn: fc.constantFrom('none', 'unnamed-signal', 'named-signal', 'named-list', 'account', 'named-account'),
    encode: fc.constantFrom('plain', 'lower', 'base64', 'base64url', 'hex', 'prefixed'),
  })
  .map((r): CanonicalRecord => {
    const signals: Record<string, SignalValue> = { ...r.signals, 'Vehicle.VehicleIdentification.VIN': r.vin };
    if (r.lat !== undefined) signals[LAT] = r.lat;
    if (r.lon !== undefined) signals[LON] = r.lon;
    const enc = (
      {
        plain: r.vin,
        lower: r.vin.toLowerCase(),
        base64: Buffer.from(r.vin).toString('base64'),
        base64url: Buffer.from(r.vin).toString('base64url'),
        hex: Buffer.from(r.vin).toString('hex'),
        prefixed: `vin=${r.vin};fw=2`,
      } as const
    )[r.encode];
    if (r.vinIn === 'unnamed-signal') signals['Vehicle.Body.Tag'] = enc;
    if (r.vinIn === 'named-signal') signals['Vehicle.Cabin.Note'] = enc;
    if (r.vinIn === 'named-list') signals['Vehicle.Powertrain.Codes'] = ['P0300', enc];
    const account: Record<string, string> = { ...r.account };
    if (r.email) account['Account.Owner.Email'] = r.email;
    if (r.vinIn === 'account') account['Account.Owner.Name'] = r.vin;
    if (r.vinIn === 'named-account') account['Account.Owner.Email'] = enc;
    return {
      id: 'r',
      vin: r.vin,
      oem: 'acme',
      channel: 'mqtt',
      receivedAt: 1_795_000_000_000,
      observedAt: 1_795_000_000_000,
      signals,
      account,
      unknownKeys: r.junk,
    };
  });

function encodings(v: string): string[] {
  const b = Buffer.from(v);
  return [
    v,
    v.toLowerCase(),
    b.toString('base64').replace(/=+$/, ''),
    b.toString('base64url'),
    b.toString('hex'),
    b.toString('hex').toUpperCase(),
  ];
}

describe('policy output, for any record', () => {
  it('holds only fields the policy names, no account field it does not name, and never the raw VIN', async () => {
    const engine = await engineFor(POLICY);
    await fc.assert(
      fc.asyncProperty(record, async (r) => {
        for (const p of await engine.project(r)) {
          for (const path of Object.keys(p.signals)) {
            expect(NAMED(path) || path === 'Vehicle.CurrentLocation.GridCell').toBe(true);
            if (path.startsWith('Account.')) expect(path).toBe('Account.Owner.Email');
          }
          // No value leaves as it came unless its rule is pass (the VIN and account values never are).
          const out = JSON.stringify({ ...p, decision: undefined });
          for (const enc of encodings(r.vin)) expect(out).not.toContain(enc);
          for (const a of Object.values(r.account)) if (a.length >= 6) expect(out).not.toContain(JSON.stringify(a));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('with no policy line for a field, the field never leaves (an empty-ish policy sends nothing)', async () => {
    const engine = await engineFor(onePurpose('      Vehicle.Nothing.Here: pass\n'));
    await fc.assert(
      fc.asyncProperty(record, async (r) => {
        expect(
          (await engine.project(r)).every((p) => Object.keys(p.signals).every((k) => k === 'Vehicle.Nothing.Here')),
        ).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
