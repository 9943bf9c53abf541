/**
 * `runCli`, the CLI's in-process door: the function bin/shekara.js calls, which most CLI tests
 * run without a process. It MUST give what the spawned binary gives (exit code, stdout, stderr)
 * and MUST leave nothing behind for the next run in the same process: no exit code, no parsed
 * option, no environment, no open store.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { shekara, shekaraBinary } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'shekara-runcli-'));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};
const config = write('shekara.yaml', `dataDir: ${dir}\nlog:\n  level: silent\n`);
const badConfig = write('bad.yaml', 'mqtt:\n  port: 1884\nhttp:\n  prot: 8080\n');
const badPolicy = write(
  'p.yaml',
  'oem: acme\npurposes:\n  - id: x\n    description: d\n    fields:\n      Vehicle.Speed: smudge\n',
);

describe('runCli beside the binary', () => {
  // One command line per command family and exit path: help and usage (commander), success,
  // exit 2 (config, policy, input, a command's own code), exit 1 (a command's own code), the store
  // (a backup refusing to overwrite).
  it.each([
    [['--help']],
    [['--version']],
    [[]],
    [['no-such-command']],
    [['vehicles', 'add', '--help']],
    [['config', 'check', 'examples/shekara.yaml']],
    [['config', 'check', badConfig]],
    [['policy', 'check', badPolicy]],
    [['catalog', 'show', 'Vehicle.Speed']],
    [['catalog', 'show', 'Vehicle.Powertrain.Note']],
    [['gbt32960', 'decode', '00']],
    [['vehicles', 'add', '-c', 'examples/shekara.yaml', '--vin', 'SHORT', '--oem', 'demo-oem']],
    [['oem', 'list', '-c', config]],
    [['audit', 'pubkey', '-c', config]],
    [['verify', '--pubkey', 'nope']],
    [['backup', '-c', config, '--to', badConfig]],
  ])('shekara %j: same exit code, stdout and stderr', async (args) => {
    // One after the other: the first run on a fresh store creates its signing key.
    const spawned = await shekaraBinary(...args);
    expect(await shekara(...args)).toEqual(spawned);
  });
});

describe('runCli, twice in one process', () => {
  it('an exit code of one run is not the next run’s, nor the process’s', async () => {
    expect((await shekara('catalog', 'show', 'Vehicle.Powertrain.Note')).code).toBe(2);
    expect((await shekara('gbt32960', 'decode', '00')).code).toBe(1);
    expect((await shekara('catalog', 'show', 'Vehicle.Speed')).code).toBe(0);
    expect(process.exitCode).toBeUndefined();
  });

  it('options parsed in one run are not in the next', async () => {
    const asJson = await shekara('catalog', 'search', 'vehicle speed', '--json', '--limit', '1');
    expect(JSON.parse(asJson.stdout)).toHaveLength(1);
    const asText = await shekara('catalog', 'search', 'vehicle speed');
    expect(asText.stdout).toMatch(/signal\(s\) \(/);
    expect(asText.stdout.split('\n').length).toBeGreaterThan(2);
  });

  it('reads SHEKARA_CONFIG from its own environment, not the process’s', async () => {
    const run = async (env: Record<string, string>) => {
      let stdout = '';
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          stdout += chunk.toString();
          done();
        },
      });
      const code = await runCli(['config', 'check'], { stdout: sink, stderr: sink, env });
      return { code, stdout };
    };
    const before = process.env.SHEKARA_CONFIG;
    const [withConfig, without] = await Promise.all([run({ SHEKARA_CONFIG: config }), run({})]);
    expect(withConfig).toEqual({ code: 0, stdout: expect.stringContaining(`config ${config}: valid`) as string });
    expect(without).toEqual({ code: 0, stdout: expect.stringContaining('config (defaults): valid') as string });
    expect(process.env.SHEKARA_CONFIG).toBe(before);
  });

  it('a command on the store closes it: no connection is left open', async () => {
    const listed = await shekara('oem', 'list', '-c', config);
    expect(listed.code).toBe(0);
    // SQLite removes the write-ahead log when the last connection to the file closes.
    expect(existsSync(path.join(dir, 'shekara.db'))).toBe(true);
    expect(existsSync(path.join(dir, 'shekara.db-wal'))).toBe(false);
  });
});
