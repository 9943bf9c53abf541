/** Destination checks, signatures and the circuit breaker, on their own (no sockets). */
import { describe, expect, it } from 'vitest';
import { checkDestination, classify } from '../../src/egress/destination.js';
import { createBreaker } from '../../src/egress/breaker.js';
import { signBody, verifySignature } from '../../src/egress/sign.js';

const rules = (allowedCountries: string[], allowPrivateNetworks = false) => ({
  allowedCountries,
  allowPrivateNetworks,
});
const fixed =
  (address: string, family: 4 | 6 = 4) =>
  async () => [{ address, family }];

describe('egress destination › classification', () => {
  it('gives loopback and private-use addresses no country ("private"), IPv4 and IPv6 alike', async () => {
    for (const [address, family] of [
      ['127.0.0.1', 4],
      ['10.1.2.3', 4],
      ['192.168.0.7', 4],
      ['172.20.0.1', 4],
      ['100.64.0.1', 4],
      ['169.254.1.1', 4],
      ['::1', 6],
      ['fd00::1', 6],
      ['fe80::1', 6],
      ['::ffff:10.0.0.1', 6],
    ] as const) {
      expect((await classify({ address, family })).country, address).toBe('private');
    }
  });
  it('looks public addresses up in the geoip-lite database', async () => {
    expect((await classify({ address: '8.8.8.8', family: 4 })).country).toBe('US');
  });
});

describe('egress destination › check at send time', () => {
  it('when the host resolves to a country not allowed, blocks with the address and country', async () => {
    const v = await checkDestination(new URL('https://oem.example.test/x'), rules(['DE']), fixed('8.8.8.8'));
    expect(v.ok).toBe(false);
    expect(v.target).toMatchObject({ address: '8.8.8.8', country: 'US' });
    expect(!v.ok && v.error.code).toBe('SHK_EGRESS_DEST_COUNTRY');
  });
  it('denies by default: an empty allowedCountries blocks every public address', async () => {
    expect((await checkDestination(new URL('https://oem.example.test/x'), rules([]), fixed('8.8.8.8'))).ok).toBe(false);
  });
  it('allows the country when listed, and pins that exact address', async () => {
    const v = await checkDestination(new URL('https://oem.example.test/x'), rules(['US']), fixed('8.8.8.8'));
    expect(v).toMatchObject({ ok: true, target: { address: '8.8.8.8', country: 'US' } });
  });
  it('picks an allowed address when the name resolves to several, skipping the others', async () => {
    const v = await checkDestination(new URL('https://oem.example.test/x'), rules([], true), async () => [
      { address: '8.8.8.8', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ]);
    expect(v).toMatchObject({ ok: true, target: { address: '10.0.0.5', country: 'private' } });
  });
  it('needs allowPrivateNetworks for loopback, also when the endpoint is an IP literal', async () => {
    expect((await checkDestination(new URL('http://127.0.0.1:9/x'), rules(['US']), fixed('8.8.8.8'))).ok).toBe(false);
    expect((await checkDestination(new URL('http://127.0.0.1:9/x'), rules([], true), fixed('8.8.8.8'))).ok).toBe(true);
  });
  it('treats a name that does not resolve as a retriable failure, not a block', async () => {
    const v = await checkDestination(new URL('https://nowhere.test/x'), rules(['US']), async () => {
      throw new Error('ENOTFOUND');
    });
    expect(!v.ok && [v.error.code, v.error.retriable]).toEqual(['SHK_EGRESS_DEST_UNRESOLVED', true]);
  });
});

describe('egress signatures', () => {
  const key = Buffer.alloc(32, 7);
  it('verify for the exact body and time window, and fail for any change', () => {
    const now = 1_700_000_000_000;
    const sig = signBody(key, '{"a":1}', now);
    expect(sig).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(key, '{"a":1}', sig, now + 1_000)).toBe(true);
    expect(verifySignature(key, '{"a":2}', sig, now)).toBe(false);
    expect(verifySignature(Buffer.alloc(32, 8), '{"a":1}', sig, now)).toBe(false);
    expect(verifySignature(key, '{"a":1}', sig, now + 3_600_000)).toBe(false); // a replay an hour later
  });
});

describe('egress circuit breaker', () => {
  it('opens after the threshold, leaves the OEM alone for openMs, then lets one trial through', () => {
    const b = createBreaker({ failureThreshold: 2, openMs: 1_000 });
    expect(b.blockedUntil(0)).toBeUndefined();
    b.failure(0);
    b.failure(10);
    expect(b.state).toBe('open');
    expect(b.blockedUntil(500)).toBe(1_010);
    expect(b.blockedUntil(1_010)).toBeUndefined(); // the trial
    expect(b.blockedUntil(1_011)).toBeGreaterThan(1_011); // only one trial at a time
    b.failure(1_020);
    expect(b.blockedUntil(1_500)).toBe(2_020); // a failed trial opens it again
    b.blockedUntil(2_020);
    b.success();
    expect(b.state).toBe('closed');
  });
});
