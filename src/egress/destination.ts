/**
 * Destination checks at send time. The OEM endpoint's host is resolved here, every address is
 * classified (geoip-lite for public addresses; loopback and private-use ranges have no
 * country), and the delivery connects ONLY to an address this check passed: the transport pins
 * the socket to it (deliver.ts), so there is no window for DNS rebinding between check and
 * connect. Deny by default: an empty `allowedCountries` blocks every public address.
 */
import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { ShekaraError } from '../errors.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}
/** Host → its addresses. Injected in tests (no traffic may leave this machine). */
export type Resolver = (host: string) => Promise<readonly ResolvedAddress[]>;

export interface DestinationRules {
  readonly allowedCountries: readonly string[];
  readonly allowPrivateNetworks: boolean;
}

/** `country` is ISO 3166-1 alpha-2, or `private` (no country: loopback/private use), or `unknown`. */
export interface CheckedAddress extends ResolvedAddress {
  readonly country: string;
}

export type DestinationVerdict =
  | { readonly ok: true; readonly target: CheckedAddress }
  | { readonly ok: false; readonly error: ShekaraError; readonly target: CheckedAddress | null };

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

// Addresses that are not on the public Internet and so have no country:
// RFC 1122 §3.2.1.3 (0/8, 127/8), RFC 1918, RFC 6598 (CGNAT), RFC 3927 (link-local),
// RFC 4291 (::, ::1, fe80::/10), RFC 4193 (fc00::/7).
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fe80::', 10],
  ['fc00::', 7],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

type GeoLookup = (ip: string) => { country: string } | null;
let geo: GeoLookup | undefined;
/** geoip-lite holds its database in memory (~100 MB): load it only once a public address needs it. */
async function geoLookup(): Promise<GeoLookup> {
  if (!geo) {
    const mod = (await import('geoip-lite')) as unknown as { default?: { lookup: GeoLookup }; lookup?: GeoLookup };
    const g = mod.default ?? (mod as { lookup: GeoLookup });
    geo = (ip) => g.lookup(ip);
  }
  return geo;
}

export async function classify(a: ResolvedAddress): Promise<CheckedAddress> {
  const mapped = a.family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a.address)?.[1] : undefined;
  const v4 = mapped ?? (a.family === 4 ? a.address : undefined);
  const isPrivate = v4 ? PRIVATE.check(v4, 'ipv4') : PRIVATE.check(a.address, 'ipv6');
  if (isPrivate) return { ...a, country: 'private' };
  const hit = (await geoLookup())(v4 ?? a.address);
  return { ...a, country: hit?.country || 'unknown' };
}

export function allows(rules: DestinationRules, country: string): boolean {
  if (country === 'private') return rules.allowPrivateNetworks;
  return rules.allowedCountries.includes(country);
}

/** Resolves `url`'s host and picks the first address the rules allow. Never throws. */
export async function checkDestination(
  url: URL,
  rules: DestinationRules,
  resolve: Resolver,
): Promise<DestinationVerdict> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: readonly ResolvedAddress[];
  const literal = isIP(host);
  if (literal) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (cause) {
      return {
        ok: false,
        target: null,
        error: new ShekaraError('SHK_EGRESS_DEST_UNRESOLVED', `${host} did not resolve: ${(cause as Error).message}`, {
          retriable: true,
          cause,
        }),
      };
    }
    if (addresses.length === 0) {
      return {
        ok: false,
        target: null,
        error: new ShekaraError('SHK_EGRESS_DEST_UNRESOLVED', `${host} resolved to no address`, { retriable: true }),
      };
    }
  }
  const checked = await Promise.all(addresses.map(classify));
  const target = checked.find((c) => allows(rules, c.country));
  if (target) return { ok: true, target };
  const first = checked[0]!;
  const why =
    first.country === 'private'
      ? `${first.address} is a private or loopback address and allowPrivateNetworks is false`
      : `${first.address} is in ${first.country}, not in allowedCountries [${rules.allowedCountries.join(', ')}]`;
  return {
    ok: false,
    target: first,
    error: new ShekaraError('SHK_EGRESS_DEST_COUNTRY', `destination ${host}: ${why}`, {
      retriable: false,
      details: { host, country: first.country },
    }),
  };
}
