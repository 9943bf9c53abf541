/**
 * The files of the `sqlite-shared` project run in one worker that keeps its modules from file to
 * file (test/setup/shared-fork-files.ts). What one leaves in the process the next one sees, so
 * the list holds only files whose source shows none of the ways to leave something behind.
 * What the source cannot show (a server left listening, process.env changed in a helper, a
 * process started deep in one) test/setup/shared-fork-guard.ts catches at run time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UNIT_FILES } from '../../vitest.unit.config.js';
import { SHARED_FORK_FILES } from './shared-fork-files.js';

/** What a listed file must not do, and why it matters in a shared worker. */
const FORBIDDEN: [RegExp, string][] = [
  [
    /child_process|shekaraBinary|runProcess|cliProcessArgs|gateway-process|helpers\/pki|helpers\/mosquitto/,
    'starts a process',
  ],
  [/\bvi\.(mock|doMock|unmock|stubGlobal|stubEnv|resetModules)\(/, 'changes modules or globals the next file imports'],
  [/process\.env(\.\w+|\[[^\]]+\])\s*(=(?!=)|\?\?=|\|\|=)|delete\s+process\.env/, 'writes process.env'],
  [/globalThis(\.\w+|\[[^\]]+\])\s*=(?!=)/, 'writes a global'],
  [/process\.(chdir|on|once|umask|setMaxListeners)\(/, 'changes the process'],
];

/** `file:line: what` for each forbidden thing in the source. */
function findings(file: string, source: string): string[] {
  const hits: string[] = [];
  source.split('\n').forEach((line, i) => {
    for (const [re, what] of FORBIDDEN) if (re.test(line)) hits.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
  });
  if (/vi\.useFakeTimers\(/.test(source) && !/vi\.useRealTimers\(/.test(source))
    hits.push(`${file}: fake timers never switched back`);
  return hits;
}

describe('the sqlite-shared list', () => {
  it('names each file once, each an existing test file, none of them a unit file', () => {
    expect(new Set(SHARED_FORK_FILES).size).toBe(SHARED_FORK_FILES.length);
    expect(SHARED_FORK_FILES.filter((f) => !f.endsWith('.test.ts') || !existsSync(f))).toEqual([]);
    expect(SHARED_FORK_FILES.filter((f) => UNIT_FILES.includes(f))).toEqual([]);
  });

  it('holds no file that starts a process, mocks a module, or writes the environment or a global', () => {
    expect(SHARED_FORK_FILES.flatMap((f) => findings(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('would see each of those in a file', () => {
    const bad = [
      "import { spawn } from 'node:child_process';",
      "const r = await shekaraBinary('start');",
      "vi.mock('../../src/app.js');",
      "process.env.SHEKARA_KEYS_KEK = 'k';",
      "process.env['TZ'] ??= 'UTC';",
      'delete process.env.SHEKARA_CONFIG;',
      'globalThis.fetch = fake;',
      "process.on('exit', done);",
      'vi.useFakeTimers();',
    ];
    expect(bad.map((line) => findings('x', line).length)).toEqual(bad.map(() => 1));
    expect(findings('x', "expect(process.env.TZ === 'UTC'); vi.useFakeTimers(); vi.useRealTimers();")).toEqual([]);
  });
});
