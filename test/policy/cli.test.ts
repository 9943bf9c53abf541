/** `shekara policy …` as an operator runs it: exit codes and output (runCli; test/cli spawns the binary). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shekara as cli } from '../helpers/cli.js';
import { onePurpose, writePolicy } from './helpers.js';

const shekara = (...args: string[]) => cli('policy', ...args);

const GOOD = `oem: acme
version: 2
purposes:
  - id: fleet-map
    description: coarse positions
    legalBasis: consent
    retention: P90D
    tripEndpoints: { radiusMeters: 500 }
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.CurrentLocation: { transform: generalize, method: h3, resolution: 7 }
      Vehicle.Speed: { transform: round, step: 10 }
`;

describe('shekara policy', () => {
  it('check prints the purposes, rules and hash of a valid policy (exit 0)', async () => {
    const r = await shekara('check', writePolicy(GOOD));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid\n {2}OEM acme, version 2\n {2}hash sha256:[0-9a-f]{64}/);
    expect(r.stdout).toContain('purpose fleet-map: legal basis consent, consent required, retention P90D');
    expect(r.stdout).toContain('Vehicle.CurrentLocation  generalize {"method":"h3","resolution":7}');
    expect(r.stdout).toContain('no position within 500 m of a trip start or end');
  });

  it('check exits 2 with file:line, path and reason for an unsafe policy', async () => {
    const file = writePolicy(onePurpose('      Vehicle.Speed: pass\n      Account.Owner.*: pass\n'));
    const r = await shekara('check', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`SHK_POLICY_UNSAFE`);
    expect(r.stderr).toContain(
      `${file}:7 purposes.0.fields.Account.Owner.*: a wildcard may not open the account section`,
    );
  });

  it('dry-run prints per record what leaves and what not, then a summary', async () => {
    const file = writePolicy(GOOD);
    const input = path.join(path.dirname(file), 'in.ndjson');
    writeFileSync(
      input,
      `${JSON.stringify({ vin: 'LSHKZ000000000001', ts: '2026-11-23T10:00:00Z', speed: 54, position: { lat: 43.2, lon: 76.9 }, account: { owner: { name: 'Asel' } } })}\n`,
    );
    const r = await shekara('dry-run', '--policy', file, '--input', input, '--assume-consent');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fleet-map: SENDS');
    expect(r.stdout).toContain('+ Vehicle.Speed = 50');
    expect(r.stdout).toContain(
      '- suppressed: trip start radius: Vehicle.CurrentLocation.Latitude, Vehicle.CurrentLocation.Longitude',
    );
    expect(r.stdout).toContain('- not listed (account fields leave only when named one by one): Account.Owner.Name');
    expect(r.stdout).toMatch(/fields that never leave: .*Account\.Owner\.Name/);
    expect(r.stdout).not.toContain('LSHKZ000000000001');
    const blocked = await shekara('dry-run', '--policy', file, '--input', input);
    expect(blocked.stdout).toContain('fleet-map: nothing now (blocked: no consent)');
  });

  it('dry-run exits 2 naming input lines that are not payloads', async () => {
    const file = writePolicy(GOOD);
    const input = path.join(path.dirname(file), 'bad.ndjson');
    writeFileSync(input, '{"vin":"LSHKZ000000000001","speed":"fast"}\n');
    const r = await shekara('dry-run', '--policy', file, '--input', input);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `SHK_POLICY_INPUT: 1 input line(s) could not be read: ${input}:1 does not decode: speed: expected a float`,
    );
  });

  it('diff shows what a change opens and closes', async () => {
    const a = writePolicy(GOOD);
    const b = writePolicy(
      GOOD.replace('legalBasis: consent', 'legalBasis: contract').replace(
        '      Vehicle.Speed: { transform: round, step: 10 }\n',
        '      Vehicle.TraveledDistance: pass\n',
      ),
    );
    const r = await shekara('diff', a, b);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('+ opens   fleet-map: Vehicle.TraveledDistance: pass');
    expect(r.stdout).toContain('- closes  fleet-map: Vehicle.Speed: round {"step":10} removed');
    expect(r.stdout).toContain('+ opens   fleet-map: consent required: true → false');
  });
});
