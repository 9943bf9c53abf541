/**
 * `npm test` (scripts/test.mjs) runs the checks and the build in two lanes, then one `vitest run`.
 * Run here on a copy of the script beside stand-in tools (shell scripts named eslint, prettier,
 * tsc, vitest) that note that they ran: what is checked is the runner's order and its verdict.
 */
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Outcome {
  code: number;
  stdout: string;
  ran: string[];
}

/** A project copy whose tools exit with the given codes; runs `node scripts/test.mjs ...args`. */
async function runWith(
  failing: Partial<Record<'eslint' | 'prettier' | 'tsc' | 'vitest' | 'build', number>>,
  args: string[] = [],
) {
  const dir = mkdtempSync(join(tmpdir(), 'npm-test-'));
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  copyFileSync('scripts/test.mjs', join(dir, 'scripts', 'test.mjs'));
  const log = join(dir, 'ran.log');
  const tool = (name: keyof typeof failing) =>
    `#!/bin/sh\necho "${name} $*" >> "${log}"\necho "${name} says hello"\nexit ${failing[name] ?? 0}\n`;
  for (const name of ['eslint', 'prettier', 'tsc', 'vitest'] as const) {
    const file = join(dir, 'node_modules', '.bin', name);
    writeFileSync(file, tool(name));
    chmodSync(file, 0o755);
  }
  writeFileSync(join(dir, 'build.sh'), tool('build'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', scripts: { build: 'sh build.sh' } }));
  return new Promise<Outcome>((resolve) => {
    execFile(process.execPath, [join(dir, 'scripts', 'test.mjs'), ...args], { cwd: dir }, (err, stdout) => {
      const ran = existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((line) => line.trimEnd())
        : [];
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, ran });
    });
  });
}

describe('npm test (scripts/test.mjs)', () => {
  it('runs lint, format check, build and type check, then vitest with the arguments given', async () => {
    const { code, stdout, ran } = await runWith({}, ['--project', 'unit']);
    expect(code).toBe(0);
    expect([...ran].sort()).toEqual(
      ['build', 'eslint .', 'prettier --check .', 'tsc -p tsconfig.json --noEmit', 'vitest run --project unit'].sort(),
    );
    // vitest only after every check: it is the last line the tools wrote.
    expect(ran.at(-1)).toBe('vitest run --project unit');
    expect(stdout).toMatch(/checks and build passed/);
  });

  it('runs no test and exits 1 when a check fails, printing the failing tool whole', async () => {
    const { code, stdout, ran } = await runWith({ prettier: 2 });
    expect(code).toBe(1);
    expect(ran).not.toContain('vitest run');
    expect(stdout).toMatch(/format \(Prettier\)[^\n]*\nprettier says hello\n {2}FAILED \(exit code 2\)/);
    expect(stdout).toMatch(/no tests were run/);
  });

  it('stops a lane at its first failure: no type check on a failed build', async () => {
    const { code, ran } = await runWith({ build: 1 });
    expect(code).toBe(1);
    expect(ran.some((line) => line.startsWith('tsc'))).toBe(false);
    expect(ran).toContain('eslint .');
  });

  it("exits with vitest's code when the tests fail", async () => {
    const { code } = await runWith({ vitest: 3 });
    expect(code).toBe(3);
  });
});
