/**
 * Dry run: what a policy would let leave for sample input, record by record, with the same
 * evaluator the gateway runs (trip hold-back and k-anonymity included, in input order).
 *
 * Input lines are car payloads in `shekara-json/1` (docs/telemetry.md), decoded by the
 * gateway's own decoder; the VIN is the payload's `vin` or the one given. With `canonical`,
 * lines are canonical records instead (`id`, `vin`, `observedAt`, `signals`, `account`…).
 * Pseudonyms use a throw-away key: they are not the ones the gateway would send.
 */
import { randomBytes } from 'node:crypto';
import type { CanonicalRecord, Projection } from '../record.js';
import type { CompiledPolicy } from './compile.js';
import { createEvaluator, type Withheld } from './evaluate.js';
import { createPseudonymizer } from './pseudonym.js';
import { createSecureRandom } from './random.js';
import { decodeTelemetry, DecodeError } from '../decoder.js';

export interface DryRunOptions {
  readonly vin?: string;
  readonly canonical?: boolean;
  /** Treat every purpose that requires consent as granted. */
  readonly assumeConsent?: boolean;
  readonly epochDays?: number;
}

export interface DryRunRecord {
  readonly line: number;
  readonly recordId: string;
  readonly error?: string;
  readonly projections: readonly Projection[];
  readonly withheld: readonly Withheld[];
}

export interface DryRunSummary {
  readonly records: number;
  readonly invalid: number;
  /** purpose → projections that would be sent. */
  readonly sent: Readonly<Record<string, number>>;
  /** reason → count of purpose × record pairs that sent nothing. */
  readonly withheld: Readonly<Record<string, number>>;
  /** Output path → how many projections carried it. */
  readonly fieldsSent: Readonly<Record<string, number>>;
  /** Input paths seen that never left. */
  readonly neverSent: readonly string[];
  /** Projections still held back (trip endpoints) after the last line. */
  readonly heldAtEnd: number;
}

export function dryRun(
  policy: CompiledPolicy,
  lines: readonly string[],
  opts: DryRunOptions = {},
): { records: DryRunRecord[]; summary: DryRunSummary } {
  const evaluator = createEvaluator(policy);
  const granted = opts.assumeConsent ? new Set(evaluator.consentPurposes) : undefined;
  const pseudonym = createPseudonymizer(randomBytes(32), policy.oem, opts.epochDays ?? 30);
  const random = createSecureRandom();
  const records: DryRunRecord[] = [];
  const seenPaths = new Set<string>();
  const sentBy: Record<string, number> = {};
  const withheldBy: Record<string, number> = {};
  const fieldsSent: Record<string, number> = {};
  const sentInputs = new Set<string>();
  let invalid = 0;
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const line = i + 1;
    let record: CanonicalRecord;
    try {
      record = opts.canonical ? canonicalFrom(text, policy.oem, line) : fromPayload(text, policy.oem, line, opts.vin);
    } catch (err) {
      invalid += 1;
      records.push({ line, recordId: `line-${line}`, error: (err as Error).message, projections: [], withheld: [] });
      return;
    }
    for (const p of Object.keys(record.signals)) seenPaths.add(p);
    for (const p of Object.keys(record.account)) seenPaths.add(p);
    for (const k of record.unknownKeys) seenPaths.add(`$unknown.${k}`);
    const projections: Projection[] = [];
    const withheld: Withheld[] = [];
    const at = record.receivedAt;
    evaluator.evaluate(
      record,
      pseudonym(record.vin, at),
      { pseudonymize: (v) => pseudonym(v, at), random },
      projections,
      withheld,
      granted,
    );
    for (const p of projections) {
      sentBy[p.purpose] = (sentBy[p.purpose] ?? 0) + 1;
      for (const f of p.fieldsSent) fieldsSent[f] = (fieldsSent[f] ?? 0) + 1;
      for (const [path, d] of Object.entries(p.decision?.fields ?? {}))
        if (d.outcome === 'passed' || d.outcome === 'transformed') sentInputs.add(path);
    }
    for (const w of withheld) withheldBy[w.reason] = (withheldBy[w.reason] ?? 0) + 1;
    records.push({ line, recordId: record.id, projections, withheld });
  });
  return {
    records,
    summary: {
      records: records.length,
      invalid,
      sent: sentBy,
      withheld: withheldBy,
      fieldsSent,
      neverSent: [...seenPaths].filter((p) => !sentInputs.has(p)).sort(),
      heldAtEnd: evaluator.held,
    },
  };
}

function fromPayload(text: string, oem: string, line: number, vinOpt: string | undefined): CanonicalRecord {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`does not decode: not valid JSON (${(err as Error).message})`);
  }
  const vin = vinOpt ?? (typeof doc === 'object' && doc !== null ? (doc as { vin?: unknown }).vin : undefined);
  if (typeof vin !== 'string') throw new Error('no VIN: give the payload a "vin" key or pass --vin');
  try {
    const d = decodeTelemetry(Buffer.from(text), vin);
    const t = d.observedAt ?? Date.now();
    return {
      id: `line-${line}`,
      vin,
      oem,
      channel: 'mqtt',
      receivedAt: t,
      observedAt: t,
      signals: d.signals,
      account: d.account,
      unknownKeys: d.unknownKeys,
    };
  } catch (err) {
    if (err instanceof DecodeError) throw new Error(`does not decode: ${err.message}`);
    throw err;
  }
}

function canonicalFrom(text: string, oem: string, line: number): CanonicalRecord {
  const r = JSON.parse(text) as Partial<CanonicalRecord>;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.vin !== 'string' ||
    typeof r.signals !== 'object' ||
    r.signals === null
  ) {
    throw new Error('a canonical record needs at least "vin" and "signals"');
  }
  const t = typeof r.observedAt === 'number' ? r.observedAt : Date.now();
  return {
    id: typeof r.id === 'string' ? r.id : `line-${line}`,
    vin: r.vin,
    oem,
    channel: r.channel ?? 'mqtt',
    receivedAt: typeof r.receivedAt === 'number' ? r.receivedAt : t,
    observedAt: t,
    signals: r.signals,
    account: r.account ?? {},
    unknownKeys: Array.isArray(r.unknownKeys) ? r.unknownKeys : [],
  };
}
