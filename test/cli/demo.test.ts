/**
 * The README's demo, as processes: `shekara start`, `shekara oem-sink` and `shekara simulate`
 * talking over real sockets. What the sink prints is what crossed the border.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/net.js';

const waitForOutput = (child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, ms = 15_000) =>
  new Promise<string>((resolve, reject) => {
    let seen = '';
    const t = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms; saw:\n${seen}`)), ms);
    child[stream]!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(t);
        resolve(seen);
      }
    });
  });

describe('the demo, as an operator runs it', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGTERM');
  });

  it("shows records arriving at the sink with only the policy's fields and a pseudonymized VIN", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-demo-'));
    const [mqttPort, httpPort, sinkPort] = [await freePort(), await freePort(), await freePort()];
    copyFileSync('examples/policies/demo-oem.yaml', path.join(dir, 'demo-oem.yaml'));
    const config = path.join(dir, 'shekara.yaml');
    writeFileSync(
      config,
      [
        'dataDir: ./data',
        `mqtt: { host: 127.0.0.1, port: ${mqttPort} }`,
        `http: { host: 127.0.0.1, port: ${httpPort} }`,
        'oems:',
        `  - { id: demo-oem, endpoint: 'http://127.0.0.1:${sinkPort}/shekara/v1/telemetry', policyFile: demo-oem.yaml, allowPrivateNetworks: true }`,
        'log: { level: warn }',
      ].join('\n'),
    );
    const out = path.join(dir, 'sink.ndjson');

    const sink = spawn('node', ['bin/shekara.js', 'oem-sink', '--port', String(sinkPort), '--out', out, '--quiet']);
    children.push(sink);
    await waitForOutput(sink, 'stderr', /listening/);
    const gateway = spawn('node', ['bin/shekara.js', 'start', '-c', config]);
    children.push(gateway);
    const banner = await waitForOutput(gateway, 'stdout', /Try it/);
    expect(banner).toContain(`mqtt://127.0.0.1:${mqttPort}`);
    expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);

    const sim = await promisify(execFile)('node', [
      'bin/shekara.js',
      'simulate',
      '-c',
      config,
      '--vehicles',
      '3',
      '--rate',
      '15',
      '--duration',
      '2',
    ]);
    const summary = JSON.parse(sim.stdout) as { sent: number; acked: number; errors: number };
    expect(summary.errors).toBe(0);
    expect(summary.acked).toBe(summary.sent);
    expect(summary.sent).toBeGreaterThanOrEqual(25);

    // Every record yields two purposes' projections; wait for all of them.
    const until = Date.now() + 10_000;
    let lines: { body: { vehicle?: string; purpose: string; signals: Record<string, unknown> } }[] = [];
    while (Date.now() < until) {
      lines = existsSync(out)
        ? readFileSync(out, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [];
      if (lines.length >= summary.sent * 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(lines).toHaveLength(summary.sent * 2);
    const allowed = new Set([
      'Vehicle.VehicleIdentification.VIN',
      'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current',
      'Vehicle.TraveledDistance',
      'Vehicle.OBD.DTCList',
      'Vehicle.Speed',
      'Vehicle.Cabin.HVAC.AmbientAirTemperature',
    ]);
    for (const { body } of lines) {
      for (const key of Object.keys(body.signals)) expect(allowed.has(key), key).toBe(true);
      const text = JSON.stringify(body);
      expect(text).not.toMatch(/LSHKZ0000000000\d\d|Account|Aigerim|example\.kz|hu_firmware|Latitude/);
    }
    // The pseudonym crosses only for the purpose that names the VIN (battery-warranty): one per car;
    // the other purpose's deliveries carry nothing that identifies the vehicle.
    const vehicles = (purpose: string) => lines.filter((l) => l.body.purpose === purpose).map((l) => l.body.vehicle);
    expect(new Set(vehicles('battery-warranty')).size).toBe(3);
    expect(vehicles('battery-warranty')).not.toContain(undefined);
    expect(vehicles('fleet-speed-profile')).toEqual(Array(summary.sent).fill(undefined));
  }, 60_000);
});
