/**
 * The reports' one door: `runReport(name, params, deps)` computes a report from the store and
 * the config at the checkpoint given and returns its envelope (JSON); `reportHtml(envelope)`
 * prints it. Each report is a module of its own (inventory.ts, processing.ts, ledger.ts,
 * access.ts), a function of store queries and config only.
 */
import { ErrorCodes, ShekaraError } from '../errors.js';
import type { StoredCheckpoint } from '../store/index.js';
import { inventoryReport } from './inventory.js';
import { processingReport } from './processing.js';
import { ledgerReport } from './ledger.js';
import { accessReport } from './access.js';
import { renderHtml } from './html.js';
import { iso } from '../time.js';
import {
  type CheckpointRef,
  type ReportDef,
  type ReportDeps,
  type ReportEnvelope,
  type ReportParams,
} from './types.js';

export type { ReportDeps, ReportEnvelope, ReportParams, ReportStore, CheckpointRef } from './types.js';
export type { Ledger, LedgerRow, LedgerAlert } from './ledger.js';
export type { AccessList, AccessKey, AccessEvent, AccessCliUser } from './access.js';
export { escapeHtml } from './html.js';

export const REPORTS: Readonly<Record<string, ReportDef<never>>> = Object.fromEntries(
  [inventoryReport, processingReport, ledgerReport, accessReport].map((r) => [
    r.name,
    r as unknown as ReportDef<never>,
  ]),
);
export const REPORT_NAMES = Object.keys(REPORTS);

/** Every parameter any report takes: the API's query schema names these. */
export const REPORT_PARAMS = [...new Set(Object.values(REPORTS).flatMap((r) => Object.keys(r.params)))];

export function checkpointRef(origin: string, cp: StoredCheckpoint): CheckpointRef {
  return {
    origin,
    size: cp.size,
    rootHash: cp.root.toString('base64'),
    signedAt: iso(cp.signedAt),
    note: cp.note,
  };
}

export function reportDef(name: string): ReportDef<unknown> {
  const def = REPORTS[name];
  if (!def)
    throw new ShekaraError(ErrorCodes.SHK_NOT_FOUND, `no report "${name}"; the reports are ${REPORT_NAMES.join(', ')}`);
  return def as ReportDef<unknown>;
}

export async function runReport(name: string, params: ReportParams, deps: ReportDeps): Promise<ReportEnvelope> {
  const def = reportDef(name);
  const given = Object.entries(params).filter(([, v]) => v !== undefined);
  const unknown = given.filter(([k]) => !(k in def.params)).map(([k]) => k);
  if (unknown.length > 0)
    throw new ShekaraError(
      ErrorCodes.SHK_BAD_REQUEST,
      `report ${name} takes ${Object.keys(def.params).join(', ') || 'no parameters'}; not ${unknown.join(', ')}`,
    );
  const data = await def.run(deps, params);
  return {
    report: name,
    title: def.title,
    generatedAt: iso(deps.now),
    checkpoint: checkpointRef(deps.config.audit.origin, deps.checkpoint),
    params: Object.fromEntries(given),
    data,
  };
}

export function reportHtml(env: ReportEnvelope): string {
  return renderHtml(env, reportDef(env.report).tables(env.data));
}
