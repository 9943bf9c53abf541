/** Builders for policy tests: an engine from policy text, records, a seeded random source. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPolicyEngine, type PolicyEngine } from '../../src/policy/index.js';
import type { CanonicalRecord, Projection, SignalValue } from '../../src/record.js';
import { seeded as seededRandom } from '../../src/sim/random.js';

export const VIN = 'LSHKZ000000000001';
export const T0 = 1_795_000_000_000;
export const LAT = 'Vehicle.CurrentLocation.Latitude';
export const LON = 'Vehicle.CurrentLocation.Longitude';

/** A policy file with one purpose named p1 whose fields are the given YAML lines. */
export const onePurpose = (fields: string, purposeExtra = '') =>
  `oem: acme\npurposes:\n  - id: p1\n    description: test\n${purposeExtra}    fields:\n${fields}`;

/** Deterministic noise for tests (Mulberry32, src/sim/random.ts). */
export const seeded = (seed = 42): (() => number) => seededRandom(seed);

export function writePolicy(text: string, name = 'acme.yaml'): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'shekara-policy-')), name);
  writeFileSync(file, text);
  return file;
}

export interface TestConsent {
  grants: Set<string>;
  isConsentGranted(vin: string, oem: string, purpose: string): Promise<boolean>;
}

/** A consent registry in memory, asynchronous like the store's. */
export function testConsent(): TestConsent {
  const grants = new Set<string>();
  return { grants, isConsentGranted: async (vin, oem, purpose) => grants.has(`${vin}/${oem}/${purpose}`) };
}

export async function engineFor(
  text: string,
  opts: { consent?: TestConsent; random?: () => number } = {},
): Promise<PolicyEngine & { file: string }> {
  const file = writePolicy(text);
  const engine = await createPolicyEngine(
    { oems: [{ id: 'acme', policyFile: file }], epochDays: 30 },
    { masterKey: Buffer.alloc(32, 7), consent: opts.consent, random: opts.random ?? seeded() },
  );
  return Object.assign(engine, { file });
}

/** Projects records one after another (stateful rules see them in order); one list per record. */
export async function projectEach(engine: PolicyEngine, records: readonly CanonicalRecord[]): Promise<Projection[][]> {
  const out: Projection[][] = [];
  for (const r of records) out.push(await engine.project(r));
  return out;
}

let n = 0;
export function rec(signals: Record<string, SignalValue>, over: Partial<CanonicalRecord> = {}): CanonicalRecord {
  n += 1;
  const at = over.observedAt ?? T0;
  return {
    id: `rec-${n}`,
    vin: VIN,
    oem: 'acme',
    channel: 'mqtt',
    receivedAt: at,
    observedAt: at,
    signals: { 'Vehicle.VehicleIdentification.VIN': over.vin ?? VIN, ...signals },
    account: {},
    unknownKeys: [],
    ...over,
  };
}
