/**
 * `npm test` (scripts/test.mjs) builds, then runs one `vitest run` with the checks beside it at low priority.
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
    `#!/bin/sh\necho "${name} $* nice $(cut -d' ' -f19 /proc/$$/stat)" >> "${log}"\necho "${name} says hello"\nexit ${failing[name] ?? 0}\n`;
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
            .map((line) => line.replace(/\s+/g, ' ').trim())
        : [];
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, ran });
    });
  });
}

describe('npm test (scripts/test.mjs)', () => {
  it('builds, then runs vitest with the arguments given; lint, format and type check run beside at nice 19', async () => {
    const { code, stdout, ran } = await runWith({}, ['--project', 'unit']);
    expect(code).toBe(0);
    expect(ran.map((line) => line.replace(/ ?nice -?\d+$/, '')).sort()).toEqual(
      ['build', 'eslint .', 'prettier --check .', 'tsc -p tsconfig.json --noEmit', 'vitest run --project unit'].sort(),
    );
    expect(ran.indexOf('build nice 0')).toBeLessThan(ran.indexOf('vitest run --project unit nice 0'));
    for (const check of ['eslint .', 'prettier --check .', 'tsc -p tsconfig.json --noEmit'])
      expect(ran).toContain(`${check} nice 19`);
    expect(stdout).toMatch(/checks, build and tests passed/);
  });

  it('exits 1 when a check fails, after the tests, printing the failing tool whole', async () => {
    const { code, stdout, ran } = await runWith({ prettier: 2 });
    expect(code).toBe(1);
    expect(ran).toContain('vitest run nice 0');
    expect(ran.some((line) => line.startsWith('tsc'))).toBe(false);
    expect(stdout).toMatch(/format \(Prettier\)[^\n]*\nprettier says hello\n {2}FAILED \(exit code 2\)/);
    expect(stdout).toMatch(/FAILED: a check failed/);
  });

  it('runs no test and exits 1 when the build fails', async () => {
    const { code, stdout, ran } = await runWith({ build: 1 });
    expect(code).toBe(1);
    expect(ran.some((line) => line.startsWith('vitest'))).toBe(false);
    expect(ran).toContain('eslint . nice 19');
    expect(stdout).toMatch(/FAILED: the build failed, no tests were run/);
  });

  it("exits with vitest's code when only the tests fail", async () => {
    const { code, stdout } = await runWith({ vitest: 3 });
    expect(code).toBe(3);
    expect(stdout).toMatch(/FAILED: the tests failed \(exit code 3\)/);
  });
});
