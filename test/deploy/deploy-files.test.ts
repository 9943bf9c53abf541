/**
 * The deployment files are checked with what this machine has: systemd's own verifier for the
 * unit, the gateway's own config schema for the container config, and consistency between the
 * compose file, the Dockerfile and that config. (No Docker engine or Helm here to run them.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { loadPolicyFile } from '../../src/policy/index.js';

describe('deploy/', () => {
  it('the systemd unit passes systemd-analyze verify without a warning', () => {
    const r = spawnSync('systemd-analyze', ['verify', 'deploy/systemd/shekara.service'], { encoding: 'utf8' });
    expect(r.error, 'systemd-analyze must be installed (Debian: systemd)').toBeUndefined();
    expect({ status: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  });

  it('the container config is valid for this gateway, policies included', () => {
    const cfg = loadConfigFile('deploy/docker/shekara.yaml', { env: {} });
    expect(cfg.dataDir).toBe('/var/lib/shekara');
    for (const oem of cfg.oems) expect(loadPolicyFile(oem.policyFile).oem).toBe(oem.id);
  });

  it('the compose file publishes the config\'s ports and mounts the config where the image looks for it', () => {
    const compose = parse(readFileSync('deploy/docker/docker-compose.yml', 'utf8')) as {
      services: { shekara: { ports: string[]; volumes: string[] } };
    };
    const cfg = loadConfigFile('deploy/docker/shekara.yaml', { env: {} });
    const published = compose.services.shekara.ports.map((p) => Number(p.split(':')[1]));
    expect(published).toEqual(expect.arrayContaining([cfg.mqtt.port, cfg.http.port]));
    const dockerfile = readFileSync('deploy/docker/Dockerfile', 'utf8');
    const configPath = /SHEKARA_CONFIG=(\S+)/.exec(dockerfile)?.[1];
    expect(compose.services.shekara.volumes).toContain(`./shekara.yaml:${configPath}:ro`);
  });

  it('the unit starts the same command the README documents', () => {
    const unit = readFileSync('deploy/systemd/shekara.service', 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/shekara\/bin\/shekara\.js start$/m);
    expect(execFileSync('node', ['bin/shekara.js', 'start', '--help'], { encoding: 'utf8' })).toContain('SHEKARA_CONFIG');
  });
});
