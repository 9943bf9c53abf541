/** SIGHUP on a running gateway: policies reload all or nothing, and the log says which. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliProcessArgs } from '../helpers/cli.js';
import { onePurpose } from './helpers.js';

describe('shekara start, on SIGHUP', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-hup-'));
  const policy = path.join(dir, 'acme.yaml');
  writeFileSync(policy, onePurpose('      Vehicle.Speed: pass\n'));
  writeFileSync(
    path.join(dir, 'shekara.yaml'),
    [
      'dataDir: ./data',
      'mqtt: { host: 127.0.0.1, port: 0 }',
      'http: { host: 127.0.0.1, port: 0 }',
      'oems:',
      "  - { id: acme, endpoint: 'https://oem.example/telemetry', policyFile: acme.yaml }",
      'log: { level: info }',
    ].join('\n'),
  );
  const gateway = spawn(process.execPath, [...cliProcessArgs(), 'start', '-c', path.join(dir, 'shekara.yaml')]);
  let logs = '';
  let stdout = '';
  gateway.stderr.on('data', (d: Buffer) => {
    logs += d.toString();
  });
  gateway.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  afterAll(() => {
    gateway.kill('SIGTERM');
  });

  const until = async (check: () => boolean, ms = 45_000) => {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out; log so far:\n${logs}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const entries = () =>
    logs
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });

  it('keeps the running version when the new file is invalid, and activates a valid one', async () => {
    await until(() => stdout.includes('Try it'));
    writeFileSync(policy, onePurpose('      Vehicle.Speed: pass\n      Account.**: pass\n'));
    gateway.kill('SIGHUP');
    await until(() =>
      entries().some((e) => e.msg === 'SIGHUP: policy reload refused; the previous versions stay in force'),
    );
    const refused = entries().find(
      (e) => e.msg === 'SIGHUP: policy reload refused; the previous versions stay in force',
    )!;
    expect(refused.code).toBe('SHK_POLICY_UNSAFE');
    expect(JSON.stringify(refused.problems)).toContain(
      `${policy}:7 purposes.0.fields.Account.**: a wildcard may not open the account section`,
    );

    writeFileSync(policy, onePurpose('      Vehicle.Speed: { transform: round, step: 5 }\n'));
    gateway.kill('SIGHUP');
    await until(() => entries().some((e) => e.msg === 'SIGHUP: policy activated'));
    const activated = entries().find((e) => e.msg === 'SIGHUP: policy activated')!;
    expect(activated).toMatchObject({
      oem: 'acme',
      policyHash: expect.stringMatching(/^sha256:/),
      from: expect.stringMatching(/^sha256:/),
    });
    expect(activated.policyHash).not.toBe(activated.from);
  }, 120_000);
});
