/**
 * A store with known contents for the report, incident and console tests: three vehicles, their
 * owners and drivers, two OEMs with policies, and egress-log entries of every outcome whose
 * figures the tests know in advance (SEEDED).
 */
import { createHash } from 'node:crypto';
import type { EgressLogEntry, Store } from '../../src/store/types.js';
import { entry, item, projection, record, T0 } from '../store/backends.js';

export const VINS = { a: 'LSHKZ0000000000A1', b: 'LSHKZ0000000000B2', c: 'LSHKZ0000000000C3' } as const;

export const ACME_POLICY = `oem: acme
purposes:
  - id: speed
    description: Speed profile.
    legalBasis: contract
    retention: P30D
    fields:
      Vehicle.Speed: pass
  - id: loc
    description: Coarse location for traffic.
    legalBasis: consent
    consentMaxDays: 90
    fields:
      Vehicle.Speed: pass
      Vehicle.CurrentLocation: { transform: generalize, method: h3, resolution: 7 }
`;
export const ACME_POLICY_V2 = ACME_POLICY.replace(
  '      Vehicle.Speed: pass\n  - id: loc',
  '      Vehicle.Speed: pass\n      Vehicle.TraveledDistance: pass\n  - id: loc',
);
export const BOLT_POLICY = `oem: bolt
purposes:
  - id: speed
    description: Speed.
    legalBasis: contract
    fields:
      Vehicle.Speed: pass
`;
const hash = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** What the seeded log holds, for the assertions: period January 2030. */
export const PERIOD = { from: '2030-01-01T00:00:00Z', to: '2030-02-01T00:00:00Z' };

export interface Seeded {
  /** payloadBytes of each delivered entry, by label. */
  bytes: Record<string, number>;
  recordIds: Record<string, string>;
}

export async function seedStore(store: Store, base = T0): Promise<Seeded> {
  for (const vin of Object.values(VINS))
    await store.registerVehicle({ vin, oem: 'acme', secretHash: Buffer.alloc(32), secretSalt: Buffer.alloc(16) });
  await store.createOwnerToken({ ownerRef: 'cust-1', vins: [VINS.a], now: base });
  await store.createOwnerToken({ ownerRef: 'cust-3', vins: [VINS.c], now: base });
  await store.insertOem({
    id: 'acme',
    name: 'Acme Motors',
    endpoint: 'https://acme.example/in',
    allowedCountries: ['DE'],
    allowPrivateNetworks: false,
    signingKeyFile: null,
    mtls: null,
    now: base,
  });
  await store.insertOem({
    id: 'bolt',
    name: 'Bolt Cars',
    endpoint: 'https://bolt.example/in',
    allowedCountries: ['CN'],
    allowPrivateNetworks: false,
    signingKeyFile: null,
    mtls: null,
    now: base,
  });
  for (const [oem, text, at] of [
    ['acme', ACME_POLICY, base - 10 * 86_400_000],
    ['bolt', BOLT_POLICY, base - 10 * 86_400_000],
    ['acme', ACME_POLICY_V2, base + 86_400_000],
  ] as const)
    await store.recordPolicyActivation({
      oem,
      policyHash: hash(text),
      source: `${oem}.yaml`,
      content: text,
      activatedAt: at,
    });

  const bytes: Record<string, number> = {};
  const recordIds: Record<string, string> = {};
  const accounts: Record<string, Record<string, string>> = {
    [VINS.a]: { 'Account.Owner.NationalId': '900101300001', 'Account.Driver.LicenseNumber': 'KZ111' },
    [VINS.b]: { 'Account.Owner.NationalId': '900101300002' },
    [VINS.c]: {},
  };
  const mk = async (
    label: string,
    vin: string,
    oem: string,
    purpose: string,
    fields: string[],
    at: number,
    settle: 'delivered' | 'blocked' | 'dead',
    o: Partial<EgressLogEntry> = {},
  ) => {
    const r = record({ vin, receivedAt: at, account: accounts[vin]!, ...(purpose === 'loc' ? { lat: 43.2 } : {}) });
    recordIds[label] = r.id;
    const p = { ...projection(r, { oem, purpose, vehicle: `p-${oem}-${vin.slice(-2)}` }), fieldsSent: fields };
    await store.commitIngest([item(r, [p])]);
    const row = (await store.dueOutboxHeads(at + 1, 1_000)).find((x) => x.recordId === r.id)!;
    const outcome = settle === 'dead' ? 'dead-lettered' : settle;
    const country = oem === 'acme' ? 'DE' : 'CN';
    await store.settleOutbox([
      { kind: settle, outboxId: row.id, entry: entry(row, { at, destinationCountry: country, outcome, ...o }) },
    ]);
    if (settle === 'delivered') bytes[label] = Buffer.byteLength(row.body, 'utf8');
  };
  await mk('a-speed', VINS.a, 'acme', 'speed', ['Vehicle.Speed'], base, 'delivered');
  await mk('a-loc', VINS.a, 'acme', 'loc', ['Vehicle.Speed', 'Vehicle.CurrentLocation.H3'], base + 1_000, 'delivered');
  await mk('b-speed', VINS.b, 'acme', 'speed', ['Vehicle.Speed'], base + 2_000, 'delivered');
  await mk('b-blocked', VINS.b, 'acme', 'speed', ['Vehicle.Speed'], base + 3_000, 'blocked', {
    httpStatus: null,
    error: 'consent revoked',
  });
  await mk('c-speed', VINS.c, 'bolt', 'speed', ['Vehicle.Speed'], base + 4_000, 'delivered');
  await mk('c-dead', VINS.c, 'bolt', 'speed', ['Vehicle.Speed'], base + 5_000, 'dead', { httpStatus: 503 });
  // Outside the period: never counted.
  await mk('a-later', VINS.a, 'acme', 'speed', ['Vehicle.Speed'], Date.UTC(2031, 1, 1), 'delivered');
  return { bytes, recordIds };
}
