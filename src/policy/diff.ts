/**
 * What a policy change opens or closes: purposes and field rules added or removed, transforms
 * changed, and record-level rules loosened or tightened. For review before activation.
 */
import type { CompiledPolicy, CompiledPurpose } from './compile.js';

export type Effect = 'opens' | 'closes' | 'changes';
export interface DiffLine {
  readonly effect: Effect;
  readonly purpose: string;
  readonly what: string;
}

export function diffPolicies(a: CompiledPolicy, b: CompiledPolicy): DiffLine[] {
  const out: DiffLine[] = [];
  // Against no policy at all (a first upload) there is no catalog to compare with.
  if (a.catalog !== undefined && a.catalog !== b.catalog)
    out.push({ effect: 'changes', purpose: '*', what: `catalog ${a.catalog} → ${b.catalog}` });
  const before = new Map(a.purposes.map((p) => [p.id, p]));
  const after = new Map(b.purposes.map((p) => [p.id, p]));
  for (const [id, p] of after) {
    const old = before.get(id);
    if (!old) {
      const sends = Object.entries(p.rules)
        .filter(([, r]) => r !== 'drop')
        .map(([s]) => s);
      out.push({ effect: 'opens', purpose: id, what: `new purpose, sends ${sends.join(', ') || 'nothing'}` });
    } else {
      diffPurpose(old, p, out);
    }
    diffClasses(a, b, id, out);
  }
  for (const id of before.keys())
    if (!after.has(id)) out.push({ effect: 'closes', purpose: id, what: 'purpose removed' });
  const zonesA = new Set(a.zones.map((z) => z.name));
  const zonesB = new Set(b.zones.map((z) => z.name));
  for (const z of zonesA)
    if (!zonesB.has(z)) out.push({ effect: 'opens', purpose: '*', what: `sensitive zone "${z}" removed` });
  for (const z of zonesB)
    if (!zonesA.has(z)) out.push({ effect: 'closes', purpose: '*', what: `sensitive zone "${z}" added` });
  diffCommands(a, b, out);
  return out;
}

/** Command types added or removed, and their limits loosened or tightened (purpose `commands`). */
function diffCommands(a: CompiledPolicy, b: CompiledPolicy, out: DiffLine[]): void {
  const push = (effect: Effect, what: string) => out.push({ effect, purpose: 'commands', what });
  for (const [type, t] of b.commands.types) {
    const old = a.commands.types.get(type);
    if (!old) {
      push('opens', `new command type ${type}${t.restricting ? " (restricting: needs the owner's approval)" : ''}`);
      continue;
    }
    const hourly = (x: typeof t) => x.maxPerVehiclePerHour ?? Infinity;
    if (hourly(old) !== hourly(t))
      push(
        hourly(t) > hourly(old) ? 'opens' : 'closes',
        `${type}: at most ${hourly(old)} → ${hourly(t)} per vehicle per hour`,
      );
    if (old.purpose !== t.purpose)
      push('changes', `${type}: serves ${old.purpose ?? 'no purpose'} → ${t.purpose ?? 'no purpose'}`);
    if (JSON.stringify(old.params) !== JSON.stringify(t.params))
      push('changes', `${type}: parameters ${JSON.stringify(old.params)} → ${JSON.stringify(t.params)}`);
  }
  for (const type of a.commands.types.keys())
    if (!b.commands.types.has(type)) push('closes', `command type ${type} removed`);
  if (a.commands.maxTtlMs !== b.commands.maxTtlMs)
    push(
      b.commands.maxTtlMs > a.commands.maxTtlMs ? 'opens' : 'closes',
      `command maxTtl: ${a.commands.maxTtlMs} ms → ${b.commands.maxTtlMs} ms`,
    );
}

/**
 * Lines that send a signal that is not technical (src/policy/classes.ts): added, removed, or
 * the same line under another class (a catalog or config change).
 */
function diffClasses(a: CompiledPolicy, b: CompiledPolicy, purpose: string, out: DiffLine[]): void {
  const of = (p: CompiledPolicy) => new Map(p.named.filter((n) => n.purpose === purpose).map((n) => [n.selector, n]));
  const before = of(a);
  const after = of(b);
  for (const [sel, n] of after) {
    const old = before.get(sel);
    if (!old) out.push({ effect: 'opens', purpose, what: `${sel} sends ${n.class} data (${n.reason ?? 'pseudonym'})` });
    else if (old.class !== n.class)
      out.push({ effect: 'changes', purpose, what: `${sel}: class ${old.class} → ${n.class}` });
  }
  for (const [sel, n] of before)
    if (!after.has(sel)) out.push({ effect: 'closes', purpose, what: `${sel} no longer sends ${n.class} data` });
}

function diffPurpose(a: CompiledPurpose, b: CompiledPurpose, out: DiffLine[]): void {
  const push = (effect: Effect, what: string) => out.push({ effect, purpose: b.id, what });
  for (const [sel, rule] of Object.entries(b.rules)) {
    const old = a.rules[sel];
    if (old === undefined) {
      if (rule !== 'drop') push('opens', `${sel}: ${rule}`);
    } else if (old !== rule)
      push(rule === 'drop' ? 'closes' : old === 'drop' ? 'opens' : 'changes', `${sel}: ${old} → ${rule}`);
  }
  for (const [sel, rule] of Object.entries(a.rules))
    if (!(sel in b.rules) && rule !== 'drop') push('closes', `${sel}: ${rule} removed`);
  if (a.consentRequired !== b.consentRequired)
    push(b.consentRequired ? 'closes' : 'opens', `consent required: ${a.consentRequired} → ${b.consentRequired}`);
  if (a.minIntervalMs !== b.minIntervalMs)
    push(
      b.minIntervalMs > a.minIntervalMs ? 'closes' : 'opens',
      `minimum interval: ${a.minIntervalMs} ms → ${b.minIntervalMs} ms`,
    );
  if (a.timeBucketMs !== b.timeBucketMs)
    push(
      b.timeBucketMs > a.timeBucketMs ? 'closes' : 'opens',
      `time bucket: ${a.timeBucketMs} ms → ${b.timeBucketMs} ms`,
    );
  const trip = (p: CompiledPurpose) => (p.trip ? `${p.trip.radiusMeters} m` : 'off');
  if (trip(a) !== trip(b))
    push(
      !b.trip || (a.trip && b.trip.radiusMeters < a.trip.radiusMeters) ? 'opens' : 'closes',
      `trip-endpoint suppression: ${trip(a)} → ${trip(b)}`,
    );
  const k = (p: CompiledPurpose) => p.kAnonymity?.k ?? 0;
  if (k(a) !== k(b)) push(k(b) < k(a) ? 'opens' : 'closes', `k-anonymity: k ${k(a) || 'off'} → ${k(b) || 'off'}`);
  if (a.legalBasis !== b.legalBasis)
    push('changes', `legal basis: ${a.legalBasis ?? '(none)'} → ${b.legalBasis ?? '(none)'}`);
  if (a.automatedDecisions !== b.automatedDecisions)
    push('changes', `automated decisions: ${a.automatedDecisions} → ${b.automatedDecisions}`);
  if (a.consentMaxDays !== b.consentMaxDays)
    push(
      b.consentMaxDays > a.consentMaxDays ? 'opens' : 'closes',
      `consent lasts at most: ${a.consentMaxDays} → ${b.consentMaxDays} days`,
    );
  if (a.retention !== b.retention)
    push('changes', `retention: ${a.retention ?? '(none)'} → ${b.retention ?? '(none)'}`);
}
