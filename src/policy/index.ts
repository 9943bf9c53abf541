/**
 * The policy module's one door. `createPolicyEngine` loads and compiles every OEM's policy
 * once; `project(record)` returns what may leave for the record's OEM, per purpose.
 * Deny by default: a vehicle whose OEM has no policy sends nothing; a purpose that requires
 * consent sends nothing without a grant (or without a consent registry at all).
 *
 * `project` is called at ingest inside the group commit; it MAY return projections of EARLIER
 * records of the same vehicle that were held back (trip endpoints) and are now released —
 * each carries its own recordId. State is in memory: after a restart, held projections are
 * gone (dropped, never sent).
 */
import { loadPolicyFile } from './load.js';
import { createPseudonymizer, type Pseudonymizer } from './pseudonym.js';
import { createEvaluator, type ConsentLookup, type Evaluator, type Withheld } from './evaluate.js';
import { createSecureRandom } from './random.js';
import type { CompiledPolicy } from './compile.js';
import type { CanonicalRecord, Projection } from '../record.js';
import type { PolicyHistoryStore } from '../store/types.js';
import { ShekaraError } from '../errors.js';

export { parsePolicy, loadPolicyFile } from './load.js';
export type { CompiledPolicy, CompiledPurpose } from './compile.js';
export { DEFAULT_CONSENT_MAX_DAYS } from './compile.js';
export { VIN_PATH } from './compile.js';
export type { Withheld, ConsentLookup } from './evaluate.js';
export { createEvaluator } from './evaluate.js';
export { consentStillGiven, sendTimeVerdict, SEND_BLOCKED } from './consent.js';

export interface PolicyEngineConfig {
  readonly oems: readonly { readonly id: string; readonly policyFile: string }[];
  readonly epochDays: number;
}

export interface PolicyEngineDeps {
  /** The pseudonymization master key; it stays in the local store. */
  readonly masterKey: Buffer;
  /** The consent registry. Without it, purposes that require consent send nothing. */
  readonly consent?: ConsentLookup;
  /** Where each activated policy version is recorded (hash, text, time). */
  readonly history?: Pick<PolicyHistoryStore, 'recordPolicyActivation'>;
  readonly now?: () => number;
  /** Uniform [0, 1); a CSPRNG by default. Tests inject a seeded one. */
  readonly random?: () => number;
}

export interface ReloadResult {
  /** OEMs whose policy changed: old and new hash. Their held projections were dropped. */
  readonly changed: readonly { readonly oem: string; readonly from: string; readonly to: string; readonly droppedHeld: number }[];
  readonly unchanged: readonly string[];
}

export interface PolicyEngine {
  project(record: CanonicalRecord): Projection[];
  /** Like `project`, and also says why a purpose produced nothing (dry runs). */
  explain(record: CanonicalRecord): { projections: Projection[]; withheld: Withheld[] };
  /** The active policy of an OEM, if any. */
  policyOf(oem: string): CompiledPolicy | undefined;
  /** The pseudonym an OEM knows a VIN by at a given time. */
  pseudonymFor(oem: string, vin: string, atMs: number): string | undefined;
  /**
   * Re-reads every policy file. All or nothing: if any file is invalid this throws its
   * SHK_POLICY_* error (file, line, path, reason) and every previous version stays in force.
   */
  reload(): ReloadResult;
  /** Projections held back right now (trip endpoints), all OEMs. */
  held(): number;
  close(): Promise<void>;
}

interface Entry { readonly evaluator: Evaluator; readonly pseudonym: Pseudonymizer }

export async function createPolicyEngine(cfg: PolicyEngineConfig, deps: PolicyEngineDeps): Promise<PolicyEngine> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? createSecureRandom();
  const pseudonyms = new Map(cfg.oems.map((o) => [o.id, createPseudonymizer(deps.masterKey, o.id, cfg.epochDays)]));
  const loadAll = (): Map<string, CompiledPolicy> => {
    const out = new Map<string, CompiledPolicy>();
    for (const oem of cfg.oems) {
      const policy = loadPolicyFile(oem.policyFile);
      if (policy.oem !== oem.id) {
        throw new ShekaraError('SHK_POLICY_INVALID', `policy ${oem.policyFile} is for OEM "${policy.oem}" but the config assigns it to "${oem.id}"`,
          { details: { file: oem.policyFile, path: 'oem', reason: 'OEM mismatch' } });
      }
      out.set(oem.id, policy);
    }
    return out;
  };
  const activate = (policy: CompiledPolicy): Entry => {
    deps.history?.recordPolicyActivation({ oem: policy.oem, policyHash: policy.hash, source: policy.source, content: policy.text, activatedAt: now() });
    return { evaluator: createEvaluator(policy, deps.consent), pseudonym: pseudonyms.get(policy.oem)! };
  };

  let byOem = new Map<string, Entry>();
  for (const [oem, policy] of loadAll()) byOem.set(oem, activate(policy));

  // One context reused for every record (evaluation is synchronous): no closure per record.
  const ctx = {
    at: 0,
    pseudonym: undefined as Pseudonymizer | undefined,
    pseudonymize(v: string): string { return this.pseudonym!(v, this.at); },
    random,
  };
  const run = (record: CanonicalRecord, withheld?: Withheld[]): Projection[] => {
    const entry = byOem.get(record.oem);
    if (!entry) return [];
    ctx.at = record.receivedAt;
    ctx.pseudonym = entry.pseudonym;
    const out: Projection[] = [];
    entry.evaluator.evaluate(record, entry.pseudonym(record.vin, record.receivedAt), ctx, out, withheld);
    return out;
  };

  return {
    project: (record) => run(record),
    explain(record) {
      const withheld: Withheld[] = [];
      return { projections: run(record, withheld), withheld };
    },
    policyOf: (oem) => byOem.get(oem)?.evaluator.policy,
    pseudonymFor: (oem, vin, atMs) => pseudonyms.get(oem)?.(vin, atMs),
    reload() {
      const fresh = loadAll(); // throws before anything changes
      const next = new Map<string, Entry>();
      const changed: { oem: string; from: string; to: string; droppedHeld: number }[] = [];
      const unchanged: string[] = [];
      for (const [oem, policy] of fresh) {
        const old = byOem.get(oem);
        if (old && old.evaluator.policy.hash === policy.hash) {
          next.set(oem, old); // same version: keep its state (trips, counts, intervals)
          unchanged.push(oem);
        } else {
          // A new version starts from empty state: what the old one held is dropped, never
          // sent under rules that are no longer in force.
          next.set(oem, activate(policy));
          changed.push({ oem, from: old?.evaluator.policy.hash ?? '(none)', to: policy.hash, droppedHeld: old?.evaluator.held ?? 0 });
        }
      }
      byOem = next;
      return { changed, unchanged };
    },
    held: () => [...byOem.values()].reduce((n, e) => n + e.evaluator.held, 0),
    close: async () => {},
  };
}
