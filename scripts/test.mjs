#!/usr/bin/env node
// `npm test`: the build, ONE `vitest run`, and the checks (lint, format, types) beside them.
//
// Each check is one single-threaded process: ESLint ~38 CPU-s (it builds a type-checked program
// of its own), the type check ~25, Prettier ~20; the build ~18 (this project's 2-core machine).
// One after another before the tests they took ~100 s; in two lanes ~60 s. Here they start with
// the build at the lowest CPU priority (nice 19) and run beside the tests. Measured on 2 cores
// (2026-12-05): the suite alone keeps them 87 % busy, so the checks mostly take CPU from the
// tests (vitest 480 -> 530 s) and the whole is about what two lanes before the tests cost; kept
// because one run gives the whole verdict (the tests run even when a check fails). The tests
// import the build, so vitest starts when the build has passed. The checks' output is held and
// printed whole at the end, under each command. Exit code: vitest's, or 1 when the build or a
// check failed (a failed build runs no test). Arguments after `npm test --` go to vitest.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

/** A step: what it is called in the output, and the command line. */
const step = (name, file, ...args) => ({ name, file, args });

const CHECKS = [
  step('lint (ESLint)', bin('eslint'), '.'),
  step('format (Prettier)', bin('prettier'), '--check', '.'),
  step('type check (tsc, tests included)', bin('tsc'), '-p', 'tsconfig.json', '--noEmit'),
];
const BUILD = step('build', 'npm', 'run', '-s', 'build');
const TESTS = step('tests', bin('vitest'), 'run', ...process.argv.slice(2));

/** Runs one command; resolves to its exit code and, unless inherited, its output. */
function run({ file, args }, { inherit = false, nice = false } = {}) {
  return new Promise((resolve) => {
    // POSIX nice(1) lowers the priority before the check's first instruction; setPriority() on the
    // child's pid after spawn() came too late for a short check (it had already run, at nice 0).
    const [cmd, argv] = nice ? ['nice', ['-n', '19', file, ...args]] : [file, args];
    const child = spawn(cmd, argv, { cwd: root, stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout?.on('data', (c) => chunks.push(c));
    child.stderr?.on('data', (c) => chunks.push(c));
    child.on('error', (err) => resolve({ code: 127, output: `${err.message}\n` }));
    child.on('close', (code, signal) =>
      resolve({ code: code ?? 1, output: Buffer.concat(chunks).toString() + (signal ? `killed by ${signal}\n` : '') }),
    );
  });
}

const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);
const commandLine = (s) => [s.file.replace(`${root}/`, ''), ...s.args].join(' ');

/** Runs steps in order, stopping at the first failure; resolves to the report and the verdict. */
async function inOrder(steps, options) {
  const report = [];
  for (const s of steps) {
    const started = Date.now();
    const { code, output } = await run(s, options);
    report.push(`> ${s.name}: ${commandLine(s)}`);
    if (output.trim() !== '') report.push(output.trimEnd());
    report.push(
      code === 0 ? `  ok in ${seconds(started)} s` : `  FAILED (exit code ${code}) after ${seconds(started)} s`,
    );
    if (code !== 0) return { ok: false, report };
  }
  return { ok: true, report };
}

const started = Date.now();
const checks = inOrder(CHECKS, { nice: true });
const build = await inOrder([BUILD]);
process.stdout.write(`${build.report.join('\n')}\n\n`);
let testsCode = 1;
if (build.ok) {
  process.stdout.write(`npm test: ${CHECKS.map((s) => s.name).join(', ')} run beside the tests at low priority\n\n`);
  testsCode = (await run(TESTS, { inherit: true })).code;
}
const checked = await checks;
process.stdout.write(`\n${checked.report.join('\n')}\n\n`);
const verdicts = [
  build.ok ? null : 'the build failed, no tests were run',
  checked.ok ? null : 'a check failed',
  build.ok && testsCode !== 0 ? `the tests failed (exit code ${testsCode})` : null,
].filter((v) => v !== null);
process.stdout.write(
  verdicts.length === 0
    ? `npm test: checks, build and tests passed in ${seconds(started)} s\n`
    : `npm test: FAILED: ${verdicts.join('; ')} (${seconds(started)} s)\n`,
);
process.exit(!build.ok || !checked.ok ? 1 : testsCode);
