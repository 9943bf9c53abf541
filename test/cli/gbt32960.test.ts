/**
 * The GB/T 32960 commands as an operator meets them (runCli; the gateway a child process of the built CLI):
 * `shekara gbt32960 decode` on hex, on a capture file, on bad input; `shekara simulate
 * --protocol gbt32960` against a running `shekara start` (real TCP terminals, both editions).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/net.js';
import { shekara } from '../helpers/cli.js';

const samples = (
  JSON.parse(readFileSync('test/fixtures/gbt32960/rtm_con-samples.json', 'utf8')) as {
    frames: Record<string, string>;
  }
).frames;

describe('shekara gbt32960 decode', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-gbt-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a frame given as hex (spaces allowed) as decoded fields', async () => {
    const hex = samples['logout2016']!.replace(/(..)/g, '$1 ');
    const r = await shekara('gbt32960', 'decode', hex);
    expect(r.code).toBe(0);
    const [f] = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(f).toMatchObject({ edition: 2016, command: '0x04 vehicleLogout', vin: 'HAUV4BGN6S5002219' });
  });

  it('splits a raw capture like a TCP stream: every frame decoded, the garbage between them refused', async () => {
    const file = path.join(dir, 'capture.bin');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(samples['logout2016']!, 'hex'),
        Buffer.from('noise'),
        Buffer.from(samples['logout2025']!, 'hex'),
      ]),
    );
    const r = await shekara('gbt32960', 'decode', file);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(out.filter((x) => 'command' in x).map((x) => x.edition)).toEqual([2016, 2025]);
    expect(out.some((x) => 'refused' in x)).toBe(true);
  });

  it('bad input gets a clear answer and a failing exit code, never a stack', async () => {
    const notHex = await shekara('gbt32960', 'decode', 'zz');
    expect(notHex.code).not.toBe(0);
    expect(notHex.stderr).toContain('expected a hex string');
    expect(notHex.stderr).not.toMatch(/\n\s+at /);
    const bad = Buffer.from(samples['logout2016']!, 'hex');
    bad[bad.length - 1]! ^= 0xff;
    const wrongBcc = await shekara('gbt32960', 'decode', bad.toString('hex'));
    expect(wrongBcc.code).toBe(1);
    const refused = JSON.parse(wrongBcc.stdout) as Record<string, unknown>[];
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((x) => typeof x.refused === 'string')).toBe(true);
  });
});

describe('shekara simulate --protocol gbt32960', () => {
  let dir: string;
  let config: string;
  let gateway: ChildProcess | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-gbt-sim-'));
    const [mqtt, http, gbt] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(
      path.join(dir, 'oem.yaml'),
      'oem: demo-oem\npurposes:\n  - id: speed\n    description: Speed.\n    fields:\n      Vehicle.Speed: pass\n',
    );
    config = path.join(dir, 'shekara.yaml');
    writeFileSync(
      config,
      [
        'dataDir: ./data',
        `mqtt: { host: 127.0.0.1, port: ${mqtt} }`,
        `http: { host: 127.0.0.1, port: ${http} }`,
        `gbt32960: { enabled: true, tcp: { enabled: true, host: 127.0.0.1, port: ${gbt}, allowFrom: [127.0.0.1/32] } }`,
        'oems:',
        `  - { id: demo-oem, endpoint: 'http://127.0.0.1:9/unused', policyFile: oem.yaml, allowPrivateNetworks: true }`,
        'log: { level: warn }',
      ].join('\n'),
    );
    gateway = spawn('node', ['bin/shekara.js', 'start', '-c', config]);
    let out = '';
    await new Promise<void>((resolve, reject) => {
      gateway!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Try it')) resolve();
      });
      gateway!.once('exit', (code) => reject(new Error(`gateway exited ${code}`)));
    });
    expect(out).toContain(`GB/T 32960     tcp://127.0.0.1:${gbt}`);
  }, 60_000);
  afterAll(() => {
    gateway?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  for (const edition of ['2016', '2025'])
    it(`drives ${edition}-edition terminals: every report answered after its commit`, async () => {
      const r = await shekara(
        'simulate',
        '-c',
        config,
        '--protocol',
        'gbt32960',
        '--edition',
        edition,
        '--vehicles',
        '2',
        '--rate',
        '10',
        '--duration',
        '2',
      );
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout) as { connected: number; sent: number; acked: number; errors: number };
      expect(summary).toMatchObject({ connected: 2, errors: 0, protocol: 'gbt32960' });
      expect(summary.sent).toBeGreaterThanOrEqual(10);
      expect(summary.acked).toBe(summary.sent);
      expect(r.stderr).toContain(`GB/T 32960 (${edition})`);
    }, 60_000);

  it('refuses to drive GB/T cars at a config without the listener, and says which setting', async () => {
    const other = path.join(dir, 'no-gbt.yaml');
    writeFileSync(other, readFileSync(config, 'utf8').replace(/^gbt32960:.*$/m, ''));
    const r = await shekara('simulate', '-c', other, '--protocol', 'gbt32960', '--vehicles', '1', '--duration', '1');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('simulate --protocol gbt32960 needs gbt32960.enabled and gbt32960.tcp');
  });
});
