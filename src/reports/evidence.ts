/**
 * The evidence pack: one JSON file a regulator takes away — the signed checkpoint, the whole log
 * up to it (the verifiable export), the reports computed against it, and every policy version
 * with its text, and the incidents with their notices (evidence-incidents.ts) — that
 * `shekara verify --pack FILE --pubkey KEY` checks offline: the log against the checkpoint, each
 * report's checkpoint against the log, each policy text against its hash, each incident against
 * its leaves.
 */
import { createHash } from 'node:crypto';
import { ErrorCodes, ShekaraError } from '../errors.js';
import type { Store } from '../store/index.js';
import { exportLines } from '../audit/export.js';
import { verifyExport, type VerifyReport } from '../audit/verify.js';
import { runReport } from './index.js';
import type { ReportDeps, ReportEnvelope, ReportParams } from './types.js';
import type { Config } from '../config/schema.js';
import type { IncidentStoreDeps } from '../incidents/index.js';
import { packIncidents, verifyPackIncidents, type EvidenceIncident } from './evidence-incidents.js';

export const EVIDENCE_FORMAT = 'shekara-evidence/1';

export interface EvidencePack {
  readonly format: typeof EVIDENCE_FORMAT;
  readonly origin: string;
  readonly generatedAt: string;
  readonly checkpoint: string;
  /** The export lines (`{index, leafHash, entry}`), as `shekara verify --export` reads them. */
  readonly log: readonly string[];
  readonly reports: readonly ReportEnvelope[];
  readonly policyVersions: readonly {
    oem: string;
    policyHash: string;
    activatedAt: string;
    source: string;
    content: string;
  }[];
  /** Every incident with a step in the log: opened, notified, closed, with its notice as text. */
  readonly incidents: readonly EvidenceIncident[];
}

export async function buildEvidencePack(
  deps: ReportDeps & {
    store: ReportDeps['store'] & Pick<Store, 'exportLeaves'> & IncidentStoreDeps;
    config: ReportDeps['config'] & Pick<Readonly<Config>, 'incidents'>;
  },
  period: ReportParams,
): Promise<EvidencePack> {
  const log: string[] = [];
  for await (const line of exportLines(deps.store, deps.checkpoint.size)) log.push(line.trimEnd());
  const reports = [
    await runReport('inventory', {}, deps),
    await runReport('processing', {}, deps),
    await runReport('ledger', { from: period.from, to: period.to }, deps),
    await runReport('access', { from: period.from, to: period.to }, deps),
  ];
  const policyVersions = [];
  for (const oem of await deps.store.listOems())
    for (const a of await deps.store.listPolicyActivations(oem.id))
      policyVersions.push({
        oem: oem.id,
        policyHash: a.policyHash,
        activatedAt: new Date(a.activatedAt).toISOString(),
        source: a.source,
        content: a.content,
      });
  const incidents = await packIncidents(deps.config, deps.store, deps.checkpoint.size, deps.now);
  return {
    format: EVIDENCE_FORMAT,
    origin: deps.config.audit.origin,
    generatedAt: new Date(deps.now).toISOString(),
    checkpoint: deps.checkpoint.note,
    log,
    reports,
    policyVersions,
    incidents,
  };
}

const packError = (message: string) =>
  new ShekaraError(ErrorCodes.SHK_AUDIT_EXPORT, message, { details: { reason: 'evidence-pack' } });

/** Checks a pack offline against the log's verifier key (given out of band, never taken from the pack). */
export async function verifyEvidencePack(
  pack: EvidencePack,
  verifierKey: string,
): Promise<VerifyReport & { reports: number; policyVersions: number; incidents: number }> {
  if (pack.format !== EVIDENCE_FORMAT) throw packError(`not an evidence pack (format ${String(pack.format)})`);
  const report = await verifyExport({
    lines: pack.log,
    // The pack's checkpoint and every report's: each must verify and match the root of the log at its size.
    checkpoints: [
      { label: 'pack checkpoint', note: pack.checkpoint },
      ...pack.reports.map((r) => ({ label: `report ${r.report}`, note: r.checkpoint.note })),
    ],
    verifierKey,
  });
  for (const v of pack.policyVersions) {
    const hash = `sha256:${createHash('sha256').update(v.content).digest('hex')}`;
    if (hash !== v.policyHash)
      throw packError(`policy version ${v.policyHash} of ${v.oem}: its text hashes to ${hash}; the text was altered`);
  }
  // A pack made before incidents were in it has none, and its log must then hold no incident leaf.
  verifyPackIncidents(pack.log, pack.incidents ?? []);
  return {
    ...report,
    reports: pack.reports.length,
    policyVersions: pack.policyVersions.length,
    incidents: (pack.incidents ?? []).length,
  };
}
