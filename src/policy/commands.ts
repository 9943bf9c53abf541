/**
 * The command policy: which downlink commands an OEM may send to its cars, with what parameters
 * and how often. Compiled once with the rest of the policy (every mistake is `file:line path:
 * reason` at load); checked per command by `checkCommand`. Deny by default: a type the policy
 * does not list, or a parameter a type does not declare, is refused.
 *
 * Restricting commands — those that take a function away from the car or its driver — need the
 * owner's approval on top (src/downlink). Which types restrict is decided HERE, in code, not by
 * the policy: a policy may add restricting types but cannot declare a built-in one harmless, and
 * a type named after a built-in one (`immobilize-engine`, `speed-limit-80`) restricts too.
 */
import type { CommandParamDef, CommandsDef } from './schema.js';
import { parseDuration } from './duration.js';
import { policyError } from './problem.js';
import type { YamlSource } from '../yaml-source.js';

/** The built-in restricting command types (the law's examples: immobilization, speed limits, disabled functions, remote shutdown). */
export const RESTRICTING_COMMANDS = ['immobilize', 'speed-limit', 'disable-function', 'remote-shutdown'] as const;

/** True for a built-in restricting type and for any type named after one (`immobilize-…`). */
export function isBuiltInRestricting(type: string): boolean {
  return RESTRICTING_COMMANDS.some((r) => type === r || type.startsWith(`${r}-`));
}

const DEFAULT_MAX_TTL_MS = 3_600_000;
/** A command older than a week is not the OEM's intent any more, whatever the policy says. */
const MAX_TTL_CAP_MS = 7 * 86_400_000;

export interface CompiledCommandType {
  readonly type: string;
  readonly description: string | undefined;
  readonly restricting: boolean;
  /** The purpose it serves: when that purpose needs consent, the command needs the owner's consent to it. */
  readonly purpose: string | undefined;
  readonly maxPerVehiclePerHour: number | undefined;
  readonly params: Readonly<Record<string, CommandParamDef>>;
}

export interface CompiledCommands {
  readonly maxTtlMs: number;
  readonly types: ReadonlyMap<string, CompiledCommandType>;
}

/** No `commands:` section: no command type is allowed. */
export const NO_COMMANDS: CompiledCommands = { maxTtlMs: DEFAULT_MAX_TTL_MS, types: new Map() };

export function compileCommands(
  def: CommandsDef | undefined,
  src: YamlSource,
  purposeIds: readonly string[] = [],
): CompiledCommands {
  if (!def) return NO_COMMANDS;
  let maxTtlMs = DEFAULT_MAX_TTL_MS;
  if (def.maxTtl !== undefined) {
    try {
      maxTtlMs = parseDuration(def.maxTtl);
    } catch (reason) {
      throw policyError('SHK_POLICY_INVALID', src, ['commands', 'maxTtl'], (reason as Error).message);
    }
    if (maxTtlMs < 1_000 || maxTtlMs > MAX_TTL_CAP_MS)
      throw policyError('SHK_POLICY_INVALID', src, ['commands', 'maxTtl'], 'must be between PT1S and P7D');
  }
  const types = new Map<string, CompiledCommandType>();
  def.types.forEach((t, i) => {
    const base = ['commands', 'types', i];
    if (types.has(t.type))
      throw policyError('SHK_POLICY_INVALID', src, [...base, 'type'], `duplicate command type "${t.type}"`);
    const builtIn = isBuiltInRestricting(t.type);
    if (builtIn && t.restricting === false) {
      throw policyError(
        'SHK_POLICY_UNSAFE',
        src,
        [...base, 'restricting'],
        `"${t.type}" restricts the car (built-in: ${RESTRICTING_COMMANDS.join(', ')}); a policy cannot declare it otherwise`,
      );
    }
    if (t.purpose !== undefined && !purposeIds.includes(t.purpose))
      throw policyError(
        'SHK_POLICY_INVALID',
        src,
        [...base, 'purpose'],
        `unknown purpose "${t.purpose}" (purposes: ${purposeIds.join(', ')})`,
      );
    for (const [name, p] of Object.entries(t.params ?? {})) {
      const problem = paramDefProblem(p);
      if (problem) throw policyError('SHK_POLICY_INVALID', src, [...base, 'params', name], problem);
    }
    types.set(t.type, {
      type: t.type,
      description: t.description,
      restricting: builtIn || t.restricting === true,
      purpose: t.purpose,
      maxPerVehiclePerHour: t.maxPerVehiclePerHour,
      params: t.params ?? {},
    });
  });
  return { maxTtlMs, types };
}

function paramDefProblem(p: CommandParamDef): string | undefined {
  const numeric = p.type === 'number' || p.type === 'integer';
  if (!numeric && (p.minimum !== undefined || p.maximum !== undefined))
    return `minimum/maximum apply to numbers, not to a ${p.type}`;
  if (p.type !== 'string' && p.maxLength !== undefined) return `maxLength applies to strings, not to a ${p.type}`;
  if (p.minimum !== undefined && p.maximum !== undefined && p.minimum > p.maximum)
    return `minimum ${p.minimum} is above maximum ${p.maximum}`;
  if (p.enum) {
    if (p.type === 'boolean') return 'enum does not apply to a boolean';
    const bad = p.enum.find((v) => valueProblem(p, v, true) !== undefined);
    if (bad !== undefined) return `enum value ${JSON.stringify(bad)} ${valueProblem(p, bad, true)}`;
  }
  return undefined;
}

/** Why `v` is not an allowed value of `p`, or undefined when it is. */
function valueProblem(p: CommandParamDef, v: unknown, ignoreEnum = false): string | undefined {
  switch (p.type) {
    case 'boolean':
      if (typeof v !== 'boolean') return 'must be a boolean';
      break;
    case 'string':
      if (typeof v !== 'string') return 'must be a string';
      if (p.maxLength !== undefined && v.length > p.maxLength) return `must be at most ${p.maxLength} characters`;
      break;
    case 'number':
    case 'integer':
      if (typeof v !== 'number' || !Number.isFinite(v))
        return `must be a${p.type === 'integer' ? 'n integer' : ' number'}`;
      if (p.type === 'integer' && !Number.isInteger(v)) return 'must be an integer';
      if (p.minimum !== undefined && v < p.minimum) return `must be >= ${p.minimum}`;
      if (p.maximum !== undefined && v > p.maximum) return `must be <= ${p.maximum}`;
      break;
  }
  if (!ignoreEnum && p.enum && !p.enum.includes(v as string | number))
    return `must be one of ${p.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  return undefined;
}

export type CommandVerdict =
  | { readonly ok: true; readonly def: CompiledCommandType }
  | { readonly ok: false; readonly reason: string; readonly def: CompiledCommandType | undefined };

/**
 * Whether the policy allows a command of `type` with `params` and `ttlMs`. The reason names the
 * parameter and the limit (`params.maxKmh: must be <= 130`), never the owner's approval: that
 * is the downlink's second check.
 */
export function checkCommand(
  commands: CompiledCommands,
  type: string,
  params: Readonly<Record<string, unknown>>,
  ttlMs: number,
): CommandVerdict {
  const def = commands.types.get(type);
  if (!def) return { ok: false, def, reason: `command type "${type}" is not in this OEM's command policy` };
  for (const name of Object.keys(params)) {
    if (!(name in def.params))
      return {
        ok: false,
        def,
        reason: `params.${name}: not a parameter of "${type}" (allowed: ${Object.keys(def.params).join(', ') || 'none'})`,
      };
  }
  for (const [name, p] of Object.entries(def.params)) {
    if (!(name in params)) {
      if (p.required) return { ok: false, def, reason: `params.${name}: required` };
      continue;
    }
    const problem = valueProblem(p, params[name]);
    if (problem) return { ok: false, def, reason: `params.${name}: ${problem}` };
  }
  if (ttlMs > commands.maxTtlMs)
    return {
      ok: false,
      def,
      reason: `ttlSeconds: must be <= ${commands.maxTtlMs / 1000} (the command policy's maxTtl)`,
    };
  return { ok: true, def };
}
