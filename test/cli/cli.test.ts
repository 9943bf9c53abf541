/** The command line as an operator meets it: the built `shekara` binary in a child process. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const shekara = (...args: string[]) =>
  run('node', ['bin/shekara.js', ...args], { env: { ...process.env, SHEKARA_CONFIG: '' } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('shekara command line', () => {
  it('--help lists the subcommands and an example of each', async () => {
    const r = await shekara('--help');
    expect(r.code).toBe(0);
    for (const sub of ['start', 'simulate', 'oem-sink', 'vehicles', 'config', 'policy']) expect(r.stdout).toContain(sub);
    expect(r.stdout).toContain('SHEKARA_MQTT_PORT');
  });

  it('config check accepts the example config and prints its policy hash', async () => {
    const r = await shekara('config', 'check', 'examples/shekara.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/demo-oem.*sha256:[0-9a-f]{64}/);
  });

  it('config check exits 2 and names the bad key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-cli-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'mqtt:\n  port: 1884\nhttp:\n  prot: 8080\n');
    const r = await shekara('config', 'check', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:4 http.prot: unknown key`);
  });

  it('policy check exits 2 with file:line for an unknown transform', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-cli-'));
    const file = path.join(dir, 'p.yaml');
    writeFileSync(file, 'oem: acme\npurposes:\n  - id: x\n    description: d\n    fields:\n      Vehicle.Speed: smudge\n');
    const r = await shekara('policy', 'check', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:6 purposes.0.fields.Vehicle.Speed: unknown transform "smudge"`);
  });

  it('vehicles add refuses a malformed VIN', async () => {
    const r = await shekara('vehicles', 'add', '-c', 'examples/shekara.yaml', '--vin', 'SHORT', '--oem', 'demo-oem');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('a VIN is 17 characters');
  });
});
