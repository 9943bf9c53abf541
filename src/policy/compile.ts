/**
 * Compiles a validated policy into plain functions, once. The hot path (`evaluate`) only walks
 * precompiled rules: no parsing, no lookups by name.
 */
import type { CanonicalRecord, Projection, SignalValue } from '../record.js';
import type { PolicyFile, FieldRule } from './schema.js';
import { TRANSFORMS, type FieldTransform, type TransformContext } from './transforms/index.js';
import { ShekaraError } from '../errors.js';
import { at, type YamlSource } from '../yaml-source.js';

/** VSS-style path: dot-separated identifiers under the Vehicle or Account tree. */
const PATH_RE = /^(Vehicle|Account)(\.[A-Za-z][A-Za-z0-9_]*)+$/;
export const VIN_PATH = 'Vehicle.VehicleIdentification.VIN';
/** The only transforms under which the VIN may be named: it leaves as a pseudonym or not at all. */
const VIN_SAFE = new Set(['pseudonymize', 'drop']);

interface CompiledField { readonly path: string; readonly apply: FieldTransform }
interface CompiledPurpose { readonly id: string; readonly fields: readonly CompiledField[] }

export interface CompiledPolicy {
  readonly oem: string;
  readonly hash: string;
  readonly source: string;
  readonly purposes: readonly { id: string; description: string; fields: readonly string[] }[];
  /**
   * One projection per purpose that has at least one field to send. `vehicle` is the
   * record's pseudonym for this OEM and epoch; `ctx` pseudonymizes field values the same way.
   */
  evaluate(record: CanonicalRecord, vehicle: string, ctx: TransformContext): Projection[];
}

export function compilePolicy(file: PolicyFile, hash: string, src: YamlSource): CompiledPolicy {
  const purposes: CompiledPurpose[] = [];
  const seen = new Set<string>();
  file.purposes.forEach((purpose, pi) => {
    if (seen.has(purpose.id)) throw unsafe('SHK_POLICY_INVALID', src, ['purposes', pi, 'id'], `duplicate purpose "${purpose.id}"`);
    seen.add(purpose.id);
    const fields = Object.entries(purpose.fields).map(([path, rule]) =>
      compileField(path, rule, src, ['purposes', pi, 'fields', path]),
    ).filter((f): f is CompiledField => f !== undefined);
    purposes.push({ id: purpose.id, fields });
  });

  return {
    oem: file.oem,
    hash,
    source: src.source,
    purposes: file.purposes.map((p) => ({ id: p.id, description: p.description, fields: Object.keys(p.fields) })),
    evaluate(record, vehicle, ctx) {
      const out: Projection[] = [];
      for (const purpose of purposes) {
        const signals: Record<string, SignalValue> = {};
        const sent: string[] = [];
        for (const f of purpose.fields) {
          const value = valueAt(record, f.path);
          if (value === undefined) continue;
          const result = f.apply(value, ctx);
          if (result === undefined) continue;
          signals[f.path] = result;
          sent.push(f.path);
        }
        // The pseudonym alone says nothing about the car: such a projection is not sent.
        if (sent.length === 0 || (sent.length === 1 && sent[0] === VIN_PATH)) continue;
        out.push({
          recordId: record.id, oem: file.oem, purpose: purpose.id, policyHash: hash, vehicle,
          observedAt: record.observedAt, signals, fieldsSent: sent, fieldsDropped: droppedPaths(record, sent),
        });
      }
      return out;
    },
  };
}

function compileField(path: string, rule: FieldRule, src: YamlSource, keyPath: (string | number)[]): CompiledField | undefined {
  if (!PATH_RE.test(path)) {
    throw unsafe('SHK_POLICY_INVALID', src, keyPath, 'not a signal path (expected e.g. Vehicle.Speed or Account.Owner.Email)');
  }
  const { transform: name, ...options } = typeof rule === 'string' ? { transform: rule } : rule;
  const spec = TRANSFORMS[name];
  if (!spec) {
    throw unsafe('SHK_POLICY_UNKNOWN_TRANSFORM', src, keyPath, `unknown transform "${name}" (known: ${Object.keys(TRANSFORMS).join(', ')})`);
  }
  if (path === VIN_PATH && !VIN_SAFE.has(name)) {
    throw unsafe('SHK_POLICY_UNSAFE', src, keyPath, `the VIN may only be pseudonymized or dropped, not "${name}"`);
  }
  const extra = Object.keys(options).filter((k) => !spec.options.includes(k));
  if (extra.length > 0) throw unsafe('SHK_POLICY_INVALID', src, [...keyPath, extra[0]!], `unknown option for transform "${name}"`);
  let apply: FieldTransform;
  try {
    apply = spec.compile(options);
  } catch (reason) {
    throw unsafe('SHK_POLICY_INVALID', src, keyPath, String(reason instanceof Error ? reason.message : reason));
  }
  return name === 'drop' ? undefined : { path, apply };
}

function valueAt(record: CanonicalRecord, path: string): SignalValue | undefined {
  return path.startsWith('Account.') ? record.account[path] : record.signals[path];
}

function droppedPaths(record: CanonicalRecord, sent: readonly string[]): string[] {
  const kept = new Set(sent);
  const dropped: string[] = [];
  for (const p of Object.keys(record.signals)) if (!kept.has(p)) dropped.push(p);
  for (const p of Object.keys(record.account)) if (!kept.has(p)) dropped.push(p);
  for (const k of record.unknownKeys) dropped.push(`$unknown.${k}`);
  return dropped;
}

function unsafe(code: 'SHK_POLICY_INVALID' | 'SHK_POLICY_UNKNOWN_TRANSFORM' | 'SHK_POLICY_UNSAFE', src: YamlSource, keyPath: (string | number)[], reason: string): ShekaraError {
  const where = at(src, keyPath);
  return new ShekaraError(code, `invalid policy ${src.source}:\n  ${where}: ${reason}`, { details: { problems: [`${where}: ${reason}`] } });
}
