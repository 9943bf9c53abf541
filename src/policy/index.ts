/**
 * The policy module's one door. `createPolicyEngine` loads and compiles every OEM's policy
 * once; `project(record)` returns what may leave for the record's OEM, per purpose.
 * Deny by default: a vehicle whose OEM has no policy sends nothing.
 */
import { loadPolicyFile } from './load.js';
import { createPseudonymizer, type Pseudonymizer } from './pseudonym.js';
import type { CompiledPolicy } from './compile.js';
import type { CanonicalRecord, Projection } from '../record.js';
import { ShekaraError } from '../errors.js';

export { parsePolicy, loadPolicyFile } from './load.js';
export type { CompiledPolicy } from './compile.js';
export { VIN_PATH } from './compile.js';

export interface PolicyEngineConfig {
  readonly oems: readonly { readonly id: string; readonly policyFile: string }[];
  readonly epochDays: number;
}

export interface PolicyEngineDeps {
  /** The pseudonymization master key; it stays in the local store. */
  readonly masterKey: Buffer;
}

export interface PolicyEngine {
  project(record: CanonicalRecord): Projection[];
  /** The active policy of an OEM, if any. */
  policyOf(oem: string): CompiledPolicy | undefined;
  /** The pseudonym an OEM knows a VIN by at a given time. */
  pseudonymFor(oem: string, vin: string, atMs: number): string | undefined;
  close(): Promise<void>;
}

export async function createPolicyEngine(cfg: PolicyEngineConfig, deps: PolicyEngineDeps): Promise<PolicyEngine> {
  const byOem = new Map<string, { policy: CompiledPolicy; pseudonym: Pseudonymizer }>();
  for (const oem of cfg.oems) {
    const policy = loadPolicyFile(oem.policyFile);
    if (policy.oem !== oem.id) {
      throw new ShekaraError('SHK_POLICY_INVALID',
        `policy ${oem.policyFile} is for OEM "${policy.oem}" but the config assigns it to "${oem.id}"`);
    }
    byOem.set(oem.id, { policy, pseudonym: createPseudonymizer(deps.masterKey, oem.id, cfg.epochDays) });
  }

  return {
    project(record) {
      const entry = byOem.get(record.oem);
      if (!entry) return [];
      const at = record.receivedAt;
      const ctx = { pseudonymize: (v: string) => entry.pseudonym(v, at) };
      return entry.policy.evaluate(record, entry.pseudonym(record.vin, at), ctx);
    },
    policyOf: (oem) => byOem.get(oem)?.policy,
    pseudonymFor: (oem, vin, atMs) => byOem.get(oem)?.pseudonym(vin, atMs),
    close: async () => {},
  };
}
