/**
 * bench/policy-eval.ts must keep running as the catalog grows stricter: its fixture once sent
 * untyped values (`TractionBattery.Range: 16.85`, a uint32) and the bench died in the decoder.
 * This runs its smoke mode in-process (no figure is asserted: speed is measured, never tested) and checks
 * that `npm run bench -- --help` points to it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { policyEval, record, typedFixture } from '../../bench/policy-eval.js';
import { defaultCatalog } from '../../src/catalog/index.js';

const run = promisify(execFile);

describe('bench › policy-eval', () => {
  it('its fixture fits the catalog: every signal is typed, none is left as unknown', () => {
    const fixture = typedFixture(defaultCatalog());
    const r = record(7);
    for (const p of Object.keys(fixture)) expect(r.signals[p], p).toBe(fixture[p]);
    expect(r.unknownKeys).toEqual(['hu_firmware', 'tbox_session']);
  });

  // In this process: the script's entry line only hands process.argv and console.log to policyEval.
  it('runs to the end in smoke mode, every purpose projecting each record', async () => {
    const lines: string[] = [];
    await policyEval(['--smoke'], (line) => lines.push(line));
    const stdout = lines.join('\n');
    expect(stdout).toMatch(/evaluated 1,000 records/);
    expect(stdout).toMatch(/\(3\.00 projections per record/);
    expect(stdout).toMatch(/smoke run, not a figure/);
  });

  it('is listed by `npm run bench -- --help`', async () => {
    const { stdout } = await run('node', ['--import', 'tsx', 'bench/run.ts', '--help']);
    expect(stdout).toContain('bench/policy-eval.ts [seconds]');
    expect(stdout).toContain('bench/policy-eval.ts --smoke');
  });
});
