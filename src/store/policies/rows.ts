/**
 * What both stores share about policies: the rows of `policy_versions` and `policy_activations`
 * and their mappings. DDL and statements stay per dialect (sqlite.ts, pg.ts).
 */
import type { PolicyActivation, PolicyVersionRow } from './types.js';

export const VERSION_COLUMNS = 'oem, policy_hash, content, source, uploaded_at';
export const ACTIVATION_COLUMNS = 'id, oem, policy_hash, source, content, activated_at';

export interface VersionDbRow {
  oem: string;
  policy_hash: string;
  content: string;
  source: string;
  uploaded_at: number;
}

export const toVersion = (r: VersionDbRow): PolicyVersionRow => ({
  oem: r.oem,
  policyHash: r.policy_hash,
  content: r.content,
  source: r.source,
  uploadedAt: r.uploaded_at,
});

export interface ActivationDbRow {
  id: number;
  oem: string;
  policy_hash: string;
  source: string;
  content: string;
  activated_at: number;
}

export const toActivation = (r: ActivationDbRow): PolicyActivation => ({
  id: r.id,
  oem: r.oem,
  policyHash: r.policy_hash,
  source: r.source,
  content: r.content,
  activatedAt: r.activated_at,
});
