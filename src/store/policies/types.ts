/**
 * The policies area's contract, shared by both stores (src/store/policies/{sqlite,pg}.ts):
 * uploaded policy texts, one per (OEM, content hash), and every activation with its text, so a
 * hash on an egress-log row can be traced to the exact rules that decided. Uploading stores;
 * activating is a new activation row, so a rollback is the activation of an older hash and the
 * history says when each version was in force.
 */

/** One policy version becoming active for an OEM. */
export interface PolicyActivation {
  readonly id: number;
  readonly oem: string;
  readonly policyHash: string;
  readonly source: string;
  /** The exact policy text, so the hash can be recomputed from the store alone. */
  readonly content: string;
  readonly activatedAt: number;
}

export interface PolicyHistoryStore {
  /** Records an activation unless `policyHash` is already the OEM's latest; true when recorded. */
  recordPolicyActivation(a: {
    oem: string;
    policyHash: string;
    source: string;
    content: string;
    activatedAt: number;
  }): Promise<boolean>;
  /** Activations, newest first. */
  listPolicyActivations(oem?: string): Promise<PolicyActivation[]>;
}

/** One uploaded policy text of an OEM, by content hash. */
export interface PolicyVersionRow {
  readonly oem: string;
  readonly policyHash: string;
  /** The exact text the hash is over. */
  readonly content: string;
  /** Who uploaded it (`admin-api:<key id>`, `cli`). */
  readonly source: string;
  readonly uploadedAt: number;
}

/** Uploaded policy versions: stored once per hash, activated through PolicyHistoryStore. */
export interface PolicyVersionStore {
  /** Stores a version unless that OEM already has this hash; true when stored. */
  putPolicyVersion(v: PolicyVersionRow): Promise<boolean>;
  getPolicyVersion(oem: string, policyHash: string): Promise<PolicyVersionRow | undefined>;
  /** Newest first. */
  listPolicyVersions(oem: string): Promise<PolicyVersionRow[]>;
}
