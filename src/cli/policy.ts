/**
 * `shekara policy check|dry-run|diff|schema`. Exit codes (see main.ts): 0 done, 2 an invalid
 * policy or input (with file:line, path and reason).
 */
import { readFileSync } from 'node:fs';
import { loadPolicyFile } from '../policy/index.js';
import { dryRun } from '../policy/dry-run.js';
import { diffPolicies } from '../policy/diff.js';
import { policyJsonSchema } from '../policy/json-schema.js';
import { ShekaraError } from '../errors.js';
import { cliIo, out } from './io.js';

export async function policyCheckCommand(file: string): Promise<void> {
  const p = loadPolicyFile(file);
  out(`policy ${file}: valid`);
  out(`  OEM ${p.oem}${p.version !== undefined ? `, version ${p.version}` : ''}`);
  out(`  hash ${p.hash}`);
  for (const z of p.zones) out(`  sensitive zone ${z.name}`);
  for (const purpose of p.purposes) {
    const basis = [
      `legal basis ${purpose.legalBasis ?? '(not stated)'}`,
      purpose.consentRequired ? 'consent required' : 'no consent needed',
    ];
    if (purpose.retention) basis.push(`retention ${purpose.retention}`);
    if (purpose.consentRequired) basis.push(`consent lasts at most ${purpose.consentMaxDays} days`);
    if (purpose.automatedDecisions)
      basis.push("automated decisions (stopped for a vehicle while its owner's objection is open)");
    out(`  purpose ${purpose.id}: ${basis.join(', ')}`);
    for (const [sel, rule] of Object.entries(purpose.rules)) out(`    ${sel}  ${rule}`);
    const rl: string[] = [];
    if (purpose.minIntervalMs) rl.push(`at most one per ${purpose.minIntervalMs / 1000} s per vehicle`);
    if (purpose.timeBucketMs) rl.push(`time bucketed to ${purpose.timeBucketMs / 1000} s`);
    if (purpose.trip) rl.push(`no position within ${purpose.trip.radiusMeters} m of a trip start or end`);
    if (purpose.kAnonymity) rl.push(`cells released only with ≥ ${purpose.kAnonymity.k} vehicles`);
    if (rl.length) out(`    rules: ${rl.join('; ')}`);
  }
  const commands = [...p.commands.types.values()];
  if (commands.length === 0) out('  commands: none allowed');
  for (const c of commands) {
    const limits = [c.restricting ? "RESTRICTING: needs the owner's approval" : 'not restricting'];
    if (c.purpose !== undefined) {
      const needs = p.purposes.find((x) => x.id === c.purpose)?.consentRequired;
      limits.push(`serves ${c.purpose}${needs ? " (needs the owner's consent to it)" : ''}`);
    }
    if (c.maxPerVehiclePerHour !== undefined) limits.push(`at most ${c.maxPerVehiclePerHour} per vehicle per hour`);
    out(`  command ${c.type}: ${limits.join(', ')}`);
    for (const [name, def] of Object.entries(c.params)) out(`    ${name}  ${JSON.stringify(def)}`);
  }
  out(`  catalog ${p.catalog}`);
  for (const n of p.named)
    out(
      `  sends ${n.class}: ${n.purpose} ${n.selector} (${n.transform})${n.reason ? ` reason: ${n.reason}` : ' (the VIN leaves only as a pseudonym)'}`,
    );
  for (const w of p.warnings) out(`  warning: ${w}`);
}

export async function policyDryRunCommand(opts: {
  policy: string;
  input: string;
  vin?: string;
  canonical?: boolean;
  assumeConsent?: boolean;
  json?: boolean;
}): Promise<void> {
  const policy = loadPolicyFile(opts.policy);
  let text: string;
  try {
    text = readFileSync(opts.input, 'utf8');
  } catch (cause) {
    throw new ShekaraError('SHK_POLICY_INPUT', `cannot read ${opts.input}: ${(cause as Error).message}`, { cause });
  }
  const { records, summary } = dryRun(policy, text.split('\n'), {
    vin: opts.vin,
    canonical: opts.canonical,
    assumeConsent: opts.assumeConsent,
  });
  if (opts.json) {
    for (const r of records) out(JSON.stringify(r));
    out(JSON.stringify({ summary }));
  } else {
    out(`dry run of ${opts.policy} (${policy.hash.slice(0, 19)}…) on ${opts.input}; pseudonyms use a throw-away key`);
    for (const r of records) {
      out(`line ${r.line}${r.error ? `: INVALID ${r.error}` : ''}`);
      for (const p of r.projections) {
        const released =
          p.recordId !== r.recordId ? ` (released now: record of line ${p.recordId.replace(/^line-/, '')})` : '';
        out(`  ${p.purpose}: SENDS${released}`);
        for (const [path, value] of Object.entries(p.signals)) out(`    + ${path} = ${JSON.stringify(value)}`);
        // Not sent, grouped by reason: one line per reason, the paths after it.
        const why = new Map<string, string[]>();
        for (const [path, d] of Object.entries(p.decision?.fields ?? {})) {
          if (d.outcome === 'passed' || d.outcome === 'transformed') continue;
          why.set(d.reason, [...(why.get(d.reason) ?? []), path]);
        }
        for (const [reason, paths] of why) out(`    - ${reason}: ${paths.join(', ')}`);
        for (const n of p.decision?.notes ?? []) out(`    note: ${n}`);
      }
      for (const w of r.withheld) out(`  ${w.purpose}: nothing now (${w.reason})`);
    }
    out('');
    out(`summary: ${summary.records} record(s)${summary.invalid ? `, ${summary.invalid} invalid` : ''}`);
    for (const [purpose, n] of Object.entries(summary.sent)) out(`  ${purpose}: ${n} projection(s) would leave`);
    for (const [reason, n] of Object.entries(summary.withheld)) out(`  withheld ${n}×: ${reason}`);
    if (summary.heldAtEnd > 0) {
      out(
        `  ${summary.heldAtEnd} projection(s) still held at the end of the input: the gateway sends them once the car`,
      );
      out('    leaves the trip radius, or without their position when the trip ends');
    }
    out(`  fields that would leave: ${Object.keys(summary.fieldsSent).sort().join(', ') || '(none)'}`);
    out(`  fields that never leave: ${summary.neverSent.join(', ') || '(none)'}`);
  }
  if (summary.invalid > 0) {
    throw new ShekaraError(
      'SHK_POLICY_INPUT',
      `${summary.invalid} input line(s) could not be read: ${records
        .filter((r) => r.error)
        .slice(0, 3)
        .map((r) => `${opts.input}:${r.line} ${r.error}`)
        .join('; ')}`,
    );
  }
}

export async function policyDiffCommand(oldFile: string, newFile: string): Promise<void> {
  const a = loadPolicyFile(oldFile);
  const b = loadPolicyFile(newFile);
  out(`policy diff ${oldFile} → ${newFile}`);
  out(`  ${a.hash} → ${b.hash}`);
  if (a.oem !== b.oem) out(`  OEM ${a.oem} → ${b.oem}`);
  const lines = diffPolicies(a, b);
  if (lines.length === 0) out('  no change in what may leave');
  const mark = { opens: '+ opens ', closes: '- closes', changes: '~ changes' } as const;
  for (const l of lines) out(`  ${mark[l.effect]}  ${l.purpose === '*' ? 'all purposes' : l.purpose}: ${l.what}`);
  const opens = lines.filter((l) => l.effect === 'opens').length;
  out(
    `  ${opens} change(s) open, ${lines.filter((l) => l.effect === 'closes').length} close, ${lines.filter((l) => l.effect === 'changes').length} alter`,
  );
}

export async function policySchemaCommand(): Promise<void> {
  cliIo().stdout.write(policyJsonSchema());
}
