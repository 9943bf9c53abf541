/** The command policy (`commands:` in a policy file) and the pseudonym → VIN look-up for commands. */
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/policy/index.js';
import { checkCommand, isBuiltInRestricting } from '../../src/policy/commands.js';
import { diffPolicies } from '../../src/policy/diff.js';
import { createPseudonymizer, createPseudonymResolver } from '../../src/policy/pseudonym.js';
import { isShekaraError } from '../../src/errors.js';
import { onePurpose } from './helpers.js';

const withCommands = (commands: string) => `${onePurpose('      Vehicle.Speed: pass\n')}commands:\n${commands}`;
const problem = (text: string): string => {
  try {
    parsePolicy(text, 'acme.yaml');
  } catch (err) {
    if (isShekaraError(err)) return `${err.code} ${(err.details.problems as string[])[0]}`;
    throw err;
  }
  throw new Error('the policy was accepted');
};

describe('command policy', () => {
  it('allows nothing when a policy has no commands section', () => {
    const p = parsePolicy(onePurpose('      Vehicle.Speed: pass\n'), 'acme.yaml');
    expect(checkCommand(p.commands, 'climate-on', {}, 60_000)).toMatchObject({
      ok: false,
      reason: 'command type "climate-on" is not in this OEM\'s command policy',
    });
  });

  it('checks declared parameters: types, ranges, enums, lengths; an undeclared one is refused', () => {
    const p = parsePolicy(
      withCommands(`  types:
    - type: set-mode
      params:
        mode: { type: string, enum: [eco, sport] }
        level: { type: integer, minimum: 1, maximum: 5 }
        note: { type: string, maxLength: 4 }
        on: { type: boolean }
`),
      'acme.yaml',
    );
    const check = (params: Record<string, unknown>) => {
      const v = checkCommand(p.commands, 'set-mode', params, 60_000);
      return v.ok ? 'ok' : v.reason;
    };
    expect(check({ mode: 'eco', level: 3, note: 'hi', on: true })).toBe('ok');
    expect(check({ mode: 'turbo' })).toBe('params.mode: must be one of "eco", "sport"');
    expect(check({ level: 2.5 })).toBe('params.level: must be an integer');
    expect(check({ level: 9 })).toBe('params.level: must be <= 5');
    expect(check({ note: 'too long' })).toBe('params.note: must be at most 4 characters');
    expect(check({ on: 'yes' })).toBe('params.on: must be a boolean');
    expect(check({ colour: 'red' })).toBe(
      'params.colour: not a parameter of "set-mode" (allowed: mode, level, note, on)',
    );
  });

  it('treats the built-in restricting types, and types named after them, as restricting; a policy cannot say otherwise', () => {
    for (const t of [
      'immobilize',
      'speed-limit',
      'disable-function',
      'remote-shutdown',
      'immobilize-engine',
      'speed-limit-80',
    ])
      expect(isBuiltInRestricting(t)).toBe(true);
    for (const t of ['climate-on', 'immobilizer-status', 'unlock']) expect(isBuiltInRestricting(t)).toBe(false);
    const p = parsePolicy(
      withCommands(
        '  types:\n    - type: speed-limit-80\n    - type: horn\n      restricting: true\n    - type: flash\n',
      ),
      'acme.yaml',
    );
    expect([...p.commands.types.values()].map((t) => [t.type, t.restricting])).toEqual([
      ['speed-limit-80', true],
      ['horn', true],
      ['flash', false],
    ]);
    expect(problem(withCommands('  types:\n    - type: remote-shutdown\n      restricting: false\n'))).toBe(
      'SHK_POLICY_UNSAFE acme.yaml:10 commands.types.0.restricting: "remote-shutdown" restricts the car (built-in: immobilize, speed-limit, disable-function, remote-shutdown); a policy cannot declare it otherwise',
    );
  });

  it('fails at load, with file:line and path, on a command policy that cannot be right', () => {
    expect(problem(withCommands('  types:\n    - type: a\n    - type: a\n'))).toBe(
      'SHK_POLICY_INVALID acme.yaml:10 commands.types.1.type: duplicate command type "a"',
    );
    expect(
      problem(
        withCommands('  types:\n    - type: a\n      params:\n        x: { type: number, minimum: 5, maximum: 1 }\n'),
      ),
    ).toBe('SHK_POLICY_INVALID acme.yaml:11 commands.types.0.params.x: minimum 5 is above maximum 1');
    expect(
      problem(withCommands('  types:\n    - type: a\n      params:\n        x: { type: string, minimum: 1 }\n')),
    ).toBe(
      'SHK_POLICY_INVALID acme.yaml:11 commands.types.0.params.x: minimum/maximum apply to numbers, not to a string',
    );
    expect(
      problem(withCommands('  types:\n    - type: a\n      params:\n        x: { type: integer, enum: [1, 2.5] }\n')),
    ).toBe('SHK_POLICY_INVALID acme.yaml:11 commands.types.0.params.x: enum value 2.5 must be an integer');
    expect(problem(withCommands('  maxTtl: P30D\n  types: []\n'))).toBe(
      'SHK_POLICY_INVALID acme.yaml:8 commands.maxTtl: must be between PT1S and P7D',
    );
    expect(problem(withCommands('  types:\n    - type: a\n      purpose: p2\n'))).toBe(
      'SHK_POLICY_INVALID acme.yaml:10 commands.types.0.purpose: unknown purpose "p2" (purposes: p1)',
    );
    expect(problem(withCommands('  types:\n    - type: a\n      color: red\n'))).toMatch(
      /^SHK_POLICY_INVALID acme\.yaml:\d+ commands\.types\.0.*color/,
    );
  });

  it('shows in a policy diff which command types a change opens or closes', () => {
    const a = parsePolicy(withCommands('  types:\n    - type: horn\n      maxPerVehiclePerHour: 2\n'), 'a.yaml');
    const b = parsePolicy(
      withCommands('  types:\n    - type: horn\n      maxPerVehiclePerHour: 5\n    - type: immobilize\n'),
      'b.yaml',
    );
    expect(diffPolicies(a, b)).toEqual([
      { effect: 'opens', purpose: 'commands', what: 'horn: at most 2 → 5 per vehicle per hour' },
      {
        effect: 'opens',
        purpose: 'commands',
        what: "new command type immobilize (restricting: needs the owner's approval)",
      },
    ]);
    expect(diffPolicies(b, a).map((d) => d.what)).toContain('command type immobilize removed');
    const c = parsePolicy(
      withCommands('  types:\n    - type: horn\n      maxPerVehiclePerHour: 2\n      purpose: p1\n'),
      'c.yaml',
    );
    expect(c.commands.types.get('horn')!.purpose).toBe('p1');
    expect(diffPolicies(a, c)).toEqual([
      { effect: 'changes', purpose: 'commands', what: 'horn: serves no purpose → p1' },
    ]);
  });
});

describe('pseudonym resolver', () => {
  const DAY = 86_400_000;
  const key = Buffer.alloc(32, 7);
  const pseudonymizers = new Map(['acme', 'other'].map((o) => [o, createPseudonymizer(key, o, 30)]));
  const fleets: Record<string, string[]> = {
    acme: ['LSHKZ000000000001', 'LSHKZ000000000002'],
    other: ['LSHKZ000000000003'],
  };
  const resolver = () =>
    createPseudonymResolver({
      vinsOf: async (oem) => fleets[oem] ?? [],
      pseudonymFor: (oem, vin, at) => pseudonymizers.get(oem)?.(vin, at),
      epochDays: 30,
      rebuildMs: 0,
    });
  const t = 1_795_000_000_000;

  it('finds a car by its pseudonym in the current and the previous epoch, but not two epochs back', async () => {
    const r = resolver();
    const p = pseudonymizers.get('acme')!;
    expect(await r.resolve('acme', p('LSHKZ000000000002', t), t)).toBe('LSHKZ000000000002');
    expect(await r.resolve('acme', p('LSHKZ000000000002', t - 30 * DAY), t)).toBe('LSHKZ000000000002');
    expect(await r.resolve('acme', p('LSHKZ000000000002', t - 60 * DAY), t)).toBeUndefined();
  });

  it("never resolves another OEM's pseudonym, even of a car that exists", async () => {
    const r = resolver();
    expect(await r.resolve('acme', pseudonymizers.get('other')!('LSHKZ000000000003', t), t)).toBeUndefined();
    expect(await r.resolve('acme', pseudonymizers.get('acme')!('LSHKZ000000000003', t), t)).toBeUndefined();
  });

  it('finds a car registered after the table was built', async () => {
    const r = resolver();
    await r.resolve('acme', 'nothing', t);
    fleets.acme!.push('LSHKZ000000000009');
    expect(await r.resolve('acme', pseudonymizers.get('acme')!('LSHKZ000000000009', t), t + 1)).toBe(
      'LSHKZ000000000009',
    );
  });
});
