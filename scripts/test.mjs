#!/usr/bin/env node
// `npm test`: the checks (lint, format, types), the build, then ONE `vitest run`.
//
// Each check is one single-threaded process: ESLint ~38 CPU-s (it builds a type-checked program
// of its own), the type check ~25, Prettier ~20, the build ~18 on this project's 2-core machine.
// One after another they took ~100 s before the first test; in two lanes, each filled to about
// the same length, ~60 s. The tests import the build, so vitest starts after both lanes pass.
// A lane's output is held until the lane ends and then printed whole, under its commands, so two
// lanes never interleave their lines. Any failure stops here with exit code 1 and no test run,
// as the `&&` chain this replaced did. Arguments after `npm test --` go to vitest.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

/** A step: what it is called in the output, and the command line. */
const step = (name, file, ...args) => ({ name, file, args });

const LANES = [
  [step('lint (ESLint)', bin('eslint'), '.'), step('format (Prettier)', bin('prettier'), '--check', '.')],
  [
    step('build', 'npm', 'run', '-s', 'build'),
    step('type check (tsc, tests included)', bin('tsc'), '-p', 'tsconfig.json', '--noEmit'),
  ],
];

/** Runs one command with its output captured; resolves to its exit code and output. */
function run({ file, args }, stdio) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: root, stdio });
    const chunks = [];
    child.stdout?.on('data', (c) => chunks.push(c));
    child.stderr?.on('data', (c) => chunks.push(c));
    child.on('error', (err) => resolve({ code: 127, output: `${err.message}\n` }));
    child.on('close', (code, signal) =>
      resolve({ code: code ?? 1, output: Buffer.concat(chunks).toString() + (signal ? `killed by ${signal}\n` : '') }),
    );
  });
}

/** Runs a lane's steps in order, stopping at the first failure; prints the lane when it ends. */
async function lane(steps) {
  const report = [];
  let ok = true;
  for (const s of steps) {
    const started = Date.now();
    const { code, output } = await run(s, ['ignore', 'pipe', 'pipe']);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    report.push(`> ${s.name}: ${[s.file.replace(`${root}/`, ''), ...s.args].join(' ')}`, output.trimEnd());
    report.push(code === 0 ? `  ok in ${seconds} s` : `  FAILED (exit code ${code}) after ${seconds} s`, '');
    if (code !== 0) {
      ok = false;
      break;
    }
  }
  process.stdout.write(`${report.filter((line) => line !== '').join('\n')}\n\n`);
  return ok;
}

const started = Date.now();
const results = await Promise.all(LANES.map(lane));
if (results.includes(false)) {
  process.stdout.write('npm test: a check failed (above); no tests were run.\n');
  process.exit(1);
}
process.stdout.write(`npm test: checks and build passed in ${((Date.now() - started) / 1000).toFixed(1)} s\n\n`);
const { code } = await run(step('tests', bin('vitest'), 'run', ...process.argv.slice(2)), 'inherit');
process.exit(code);
