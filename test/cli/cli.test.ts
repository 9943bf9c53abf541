/**
 * The command line as an operator meets it: exit codes, stdout and stderr of `shekara`, run in
 * this process through `runCli`, the function bin/shekara.js calls (test/helpers/cli.ts).
 * test/cli/run-cli.test.ts spawns the built binary for each of these command families and
 * checks that the process gives exactly what `runCli` gives.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shekara } from '../helpers/cli.js';

describe('shekara command line', () => {
  it('--help lists the subcommands and an example of each', async () => {
    const r = await shekara('--help');
    expect(r.code).toBe(0);
    for (const sub of ['start', 'simulate', 'oem-sink', 'vehicles', 'config', 'policy'])
      expect(r.stdout).toContain(sub);
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
    writeFileSync(
      file,
      'oem: acme\npurposes:\n  - id: x\n    description: d\n    fields:\n      Vehicle.Speed: smudge\n',
    );
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

describe('shekara backup', () => {
  it('copies a store into a file that opens as the same database, and refuses to overwrite', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-backup-'));
    writeFileSync(path.join(dir, 'c.yaml'), 'dataDir: .\noems: []\n');
    const { openSqliteStore } = await import('../../src/store/sqlite/index.js');
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    await store.registerVehicle({
      vin: 'LSHKZ000000000001',
      oem: 'x',
      secretHash: Buffer.alloc(32),
      secretSalt: Buffer.alloc(16),
    });
    await store.close();
    const to = path.join(dir, 'copy.db');
    const r = await shekara('backup', '-c', path.join(dir, 'c.yaml'), '--to', to);
    expect(r.code).toBe(0);
    const copy = openSqliteStore(to);
    expect((await copy.listVehicles()).map((v) => v.vin)).toEqual(['LSHKZ000000000001']);
    await copy.close();
    const again = await shekara('backup', '-c', path.join(dir, 'c.yaml'), '--to', to);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('refusing to overwrite');
  });
});

describe('shekara oem signing-key', () => {
  it('prints a key that verifies the signature the gateway puts on a delivery', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-sign-'));
    writeFileSync(
      path.join(dir, 'p.yaml'),
      'oem: acme\npurposes:\n  - id: x\n    description: d\n    fields: { Vehicle.Speed: pass }\n',
    );
    writeFileSync(
      path.join(dir, 'c.yaml'),
      'dataDir: .\noems:\n  - { id: acme, endpoint: "https://oem.example", policyFile: p.yaml, allowedCountries: [DE] }\n',
    );
    const r = await shekara('oem', 'signing-key', '-c', path.join(dir, 'c.yaml'), '--oem', 'acme');
    expect(r.code).toBe(0);
    const key = Buffer.from(r.stdout.trim(), 'base64url');
    expect(key.length).toBeGreaterThanOrEqual(32);
    const { signBody, verifySignature, loadSigningKey } = await import('../../src/egress/sign.js');
    const { createStore } = await import('../../src/store/index.js');
    const store = await createStore({ kind: 'sqlite', file: 'shekara.db' }, dir);
    const gatewayKey = await loadSigningKey({ id: 'acme' }, store);
    await store.close();
    const header = signBody(gatewayKey, '{"a":1}', Date.now());
    expect(verifySignature(key, '{"a":1}', header, Date.now())).toBe(true);
    expect(verifySignature(key, '{"a":2}', header, Date.now())).toBe(false);
  });
});
