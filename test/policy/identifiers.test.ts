/**
 * The identifier detector on outbound strings (red-team review M6): the car's own VIN in the
 * thirteen forms the review sent (the old guard caught 3), another registered car's VIN, the
 * owner's account values and IIN/phone/e-mail shapes; a hit drops the field with its reason.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findIdentifier } from '../../src/policy/identifiers.js';
import { engineFor, rec, VIN } from './helpers.js';

const OWN = 'LBBBB000000000001';
const OTHER = 'LBBBB000000000002';
const registered = new Set([OWN, OTHER, VIN]);
const ctx = { vin: OWN, account: [], isRegisteredVin: (v: string) => registered.has(v) };
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const base32 = (s: string) => {
  let bits = '';
  for (const b of Buffer.from(s)) bits += b.toString(2).padStart(8, '0');
  return (bits.match(/.{1,5}/g) ?? []).map((c) => B32[parseInt(c.padEnd(5, '0'), 2)]).join('');
};
const rot13 = (s: string) =>
  s.replace(/[a-z]/gi, (c) =>
    String.fromCharCode(((c.charCodeAt(0) - (c <= 'Z' ? 65 : 97) + 13) % 26) + (c <= 'Z' ? 65 : 97)),
  );
const fullwidth = (s: string) => [...s].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
const reverse = (s: string) => [...s].reverse().join('');

/** Every encoding of the issue and the review, applied to a secret. */
const ENCODINGS: Record<string, (s: string) => string> = {
  plain: (s) => s,
  lower: (s) => s.toLowerCase(),
  hex: (s) => Buffer.from(s).toString('hex'),
  base64: (s) => b64(s),
  'base64, 1-byte prefix': (s) => b64(Buffer.concat([Buffer.from('x'), Buffer.from(s)])),
  'base64, 2-byte prefix': (s) => b64(Buffer.concat([Buffer.from('xy'), Buffer.from(s)])),
  base64url: (s) => Buffer.from(s).toString('base64url'),
  base32: (s) => base32(s),
  'base32, 1-byte prefix': (s) => base32(`q${s}`),
  reversed: reverse,
  dashes: (s) => [...s].join('-'),
  spaced: (s) => `${s.slice(0, 5)} ${s.slice(5)}`,
  'zero-width joiners': (s) => [...s].join('\u200d'),
  fullwidth,
  rot13,
  'URL-encoded': (s) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
};

describe('identifier detector', () => {
  it.each(Object.entries(ENCODINGS))("finds the car's own VIN and another car's, %s", (_name, enc) => {
    expect(findIdentifier(`note ${enc(OWN)} end`, ctx)).toBe('vin');
    expect(findIdentifier(`note ${enc(OTHER)} end`, ctx)).toBe('vin');
  });

  it("finds the review's note and the owner's account values in any form", () => {
    expect(findIdentifier('Ivan Petrov +77011234567 IIN 900101300123', ctx)).toBeDefined();
    const owner = { ...ctx, account: ['Ivan Petrov', 'ivan.petrov@mail.kz', 'Almaty, Abai 10'] };
    for (const enc of Object.values(ENCODINGS)) {
      expect(findIdentifier(`x ${enc('Petrov')} y`, owner)).toBe('account');
    }
    expect(findIdentifier('IIN 900101300123', ctx)).toBe('iin');
    expect(findIdentifier('call +7 701 123-45-67', ctx)).toBe('phone');
    expect(findIdentifier('call 8 (701) 123 45 67', ctx)).toBe('phone');
    expect(findIdentifier('write to i.p@mail.kz', ctx)).toBe('email');
    expect(findIdentifier('WDB1234561N123456', ctx)).toBe('vin'); // any VIN-shaped word, registered or not
  });

  it('lets technical strings through', () => {
    for (const s of [
      'DRIVE',
      'P0300',
      'ON',
      '2026-12-03T11:42:50.031Z',
      'ChargingCableConnected',
      'firmware 4.12.0-rc1',
    ])
      expect(findIdentifier(s, { ...ctx, account: ['Ivan Petrov'] })).toBeUndefined();
  });

  it('property: a secret in any listed encoding, inside arbitrary words, is found', () => {
    const word = fc.stringMatching(/^[a-z]{1,8}$/);
    const secret = fc.oneof(
      fc.constant(OWN),
      fc.constant(OTHER),
      fc.stringMatching(/^\+7[0-9]{10}$/),
      fc.integer({ min: 0, max: 99 }).map((y) => `${String(y).padStart(2, '0')}0315300123`),
      fc.stringMatching(/^[a-z]{3,8}@[a-z]{3,8}\.kz$/),
    );
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 4 }),
        secret,
        fc.constantFrom(...Object.keys(ENCODINGS)),
        fc.array(word, { maxLength: 4 }),
        (before, s, enc, after) =>
          findIdentifier([...before, ENCODINGS[enc]!(s), ...after].join(' '), ctx) !== undefined,
      ),
      { numRuns: 400 },
    );
  });

  it('drops a passed free-text field that holds one, with the reason, and sends the rest', async () => {
    const engine = await engineFor(`oem: acme
purposes:
  - id: p1
    description: engine codes
    fields:
      Vehicle.Speed: pass
      Vehicle.Powertrain.CombustionEngine.EngineCode: { transform: pass, reason: the workshop reads it }
`);
    const [p] = await engine.project(
      rec({ 'Vehicle.Speed': 50, 'Vehicle.Powertrain.CombustionEngine.EngineCode': 'Ivan +77011234567' }),
    );
    expect(p!.signals).toEqual({ 'Vehicle.Speed': 50 });
    expect(p!.decision?.fields?.['Vehicle.Powertrain.CombustionEngine.EngineCode']).toMatchObject({
      outcome: 'dropped',
      reason: 'dropped: contains a phone number (never sent, in any form)',
    });
    const [q] = await engine.project(
      rec({ 'Vehicle.Speed': 51, 'Vehicle.Powertrain.CombustionEngine.EngineCode': 'M274 DE20' }),
    );
    expect(q!.signals).toEqual({ 'Vehicle.Speed': 51, 'Vehicle.Powertrain.CombustionEngine.EngineCode': 'M274 DE20' });
  });
});
