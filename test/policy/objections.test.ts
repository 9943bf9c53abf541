/** Objections to automated processing and consent validity, as the policy applies them at ingest and at send time. */
import { describe, expect, it } from 'vitest';
import { sendTimeVerdict, SEND_BLOCKED } from '../../src/policy/index.js';
import { createPolicyEngine } from '../../src/policy/index.js';
import { rec, seeded, T0, VIN, writePolicy } from './helpers.js';

const engineFor = (text: string, opts: { consent?: Parameters<typeof createPolicyEngine>[1]['consent'] } = {}) =>
  createPolicyEngine(
    { oems: [{ id: 'acme', policyFile: writePolicy(text) }], epochDays: 30 },
    { masterKey: Buffer.alloc(32, 7), consent: opts.consent, random: seeded() },
  );

const POLICY = `oem: acme
purposes:
  - id: score
    description: automated scoring
    legalBasis: contract
    automatedDecisions: true
    fields:
      Vehicle.Speed: pass
  - id: plain
    description: not automated
    legalBasis: contract
    fields:
      Vehicle.Speed: pass
  - id: asked
    description: consent, at most 10 days
    legalBasis: consent
    consentMaxDays: 10
    fields:
      Vehicle.Speed: pass
`;

/** Consent and objections in memory: each grant's end, each objection's time. */
function registry() {
  const ends = new Map<string, number>();
  const objections = new Map<string, number>();
  return {
    ends,
    objections,
    isConsentGranted: async (vin: string, oem: string, purpose: string, at: number) =>
      (ends.get(`${vin}/${oem}/${purpose}`) ?? -Infinity) > at,
    isProcessingObjected: async (vin: string, oem: string, purpose: string, at: number) =>
      (objections.get(`${vin}/${oem}/${purpose}`) ?? Infinity) <= at,
  };
}

describe('objections to automated processing', () => {
  it('compiles automatedDecisions (default false) and consentMaxDays (default 365)', async () => {
    const engine = await engineFor(POLICY);
    expect(engine.policyOf('acme')!.purposes.map((p) => [p.id, p.automatedDecisions, p.consentMaxDays])).toEqual([
      ['score', true, 365],
      ['plain', false, 365],
      ['asked', false, 10],
    ]);
  });

  it('an objection stops only the automated purpose, from its time, at ingest and at send time', async () => {
    const r = registry();
    const engine = await engineFor(POLICY, { consent: r });
    r.objections.set(`${VIN}/acme/score`, T0 + 1_000);
    r.objections.set(`${VIN}/acme/plain`, T0); // recorded, but the purpose is not automated
    const purposes = async (at: number) =>
      (await engine.project(rec({ 'Vehicle.Speed': 1 }, { observedAt: at }))).map((p) => p.purpose);
    expect(await purposes(T0)).toEqual(['score', 'plain']);
    expect(await purposes(T0 + 1_000)).toEqual(['plain']);
    expect((await engine.explain(rec({ 'Vehicle.Speed': 1 }, { observedAt: T0 + 1_000 }))).withheld).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ purpose: 'score', reason: 'blocked: the owner objects to automated processing' }),
      ]),
    );
    const deps = { consent: r, policyOf: engine.policyOf };
    expect(await sendTimeVerdict(deps, { vin: VIN, oem: 'acme', purpose: 'score' }, T0)).toBe(true);
    expect(await sendTimeVerdict(deps, { vin: VIN, oem: 'acme', purpose: 'score' }, T0 + 1_000)).toBe(
      SEND_BLOCKED.objection,
    );
    expect(await sendTimeVerdict(deps, { vin: VIN, oem: 'acme', purpose: 'plain' }, T0 + 1_000)).toBe(true);
    expect(await sendTimeVerdict(deps, { vin: 'LSHKZ000000000009', oem: 'acme', purpose: 'score' }, T0 + 1_000)).toBe(
      true,
    );
  });

  it('at send time: a lapsed or missing grant is "consent revoked", an erased record is blocked too', async () => {
    const r = registry();
    const engine = await engineFor(POLICY, { consent: r });
    r.ends.set(`${VIN}/acme/asked`, T0 + 500);
    const deps = { consent: r, policyOf: engine.policyOf };
    expect(await sendTimeVerdict(deps, { vin: VIN, oem: 'acme', purpose: 'asked' }, T0)).toBe(true);
    expect(await sendTimeVerdict(deps, { vin: VIN, oem: 'acme', purpose: 'asked' }, T0 + 500)).toBe(
      SEND_BLOCKED.consent,
    );
    expect(await sendTimeVerdict(deps, { vin: undefined, oem: 'acme', purpose: 'plain' }, T0)).toBe(
      SEND_BLOCKED.erased,
    );
    // A purpose the policy no longer has: consent and objections both fail safe.
    r.objections.set(`${VIN}/acme/gone`, T0);
    expect(await sendTimeVerdict(deps, { vin: VIN, oem: 'acme', purpose: 'gone' }, T0)).toBe(SEND_BLOCKED.consent);
  });

  it('policy diff names a change of automatedDecisions or consentMaxDays', async () => {
    const { diffPolicies } = await import('../../src/policy/diff.js');
    const a = (await engineFor(POLICY)).policyOf('acme')!;
    const b = (
      await engineFor(
        POLICY.replace('automatedDecisions: true', 'automatedDecisions: false').replace(
          'consentMaxDays: 10',
          'consentMaxDays: 30',
        ),
      )
    ).policyOf('acme')!;
    expect(diffPolicies(a, b).map((d) => `${d.effect} ${d.purpose}: ${d.what}`)).toEqual([
      'changes score: automated decisions: true → false',
      'opens asked: consent lasts at most: 10 → 30 days',
    ]);
  });
});
