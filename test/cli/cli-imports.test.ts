/**
 * What a CLI command loads before it runs. Every `shekara` spawn pays for its imports, and the
 * suite spawns the CLI about a hundred times: a command on the store (the built dist/, as an
 * operator runs it) must not load the MQTT client (only an external broker's credential sync
 * needs it) nor the OpenTelemetry SDK (only `shekara start` with telemetry on needs it).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The npm packages (CommonJS, as Node's require cache sees them) that importing `module` loads,
 * then running `then` (JavaScript, the module as `m`).
 */
async function packagesLoadedBy(module: string, then = ''): Promise<string[]> {
  const probe = `
    import { createRequire } from 'node:module';
    const m = await import(${JSON.stringify(new URL(`../../${module}`, import.meta.url).href)});
    ${then}
    const names = Object.keys(createRequire(import.meta.url).cache)
      .filter((k) => k.includes('/node_modules/'))
      .map((k) => k.split('/node_modules/').pop().split('/'))
      .map(([a, b]) => (a.startsWith('@') ? a + '/' + b : a));
    console.log(JSON.stringify([...new Set(names)].sort()));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe]);
  return JSON.parse(stdout) as string[];
}

describe('shekara CLI imports', () => {
  it.each(['dist/cli/apikey.js', 'dist/cli/vehicles.js'])(
    '%s loads neither the MQTT client nor the OpenTelemetry SDK',
    async (module) => {
      const loaded = await packagesLoadedBy(module);
      expect(loaded).toContain('better-sqlite3'); // the probe sees what the module loads
      expect(loaded.filter((p) => p === 'mqtt' || p.startsWith('@opentelemetry/'))).toEqual([]);
    },
  );

  it('loads H3 (h3-js) only for a policy that generalizes with it', async () => {
    expect(await packagesLoadedBy('dist/cli/vehicles.js')).not.toContain('h3-js');
    expect(await packagesLoadedBy('dist/policy/load.js')).not.toContain('h3-js');
    const h3Policy = await packagesLoadedBy(
      'dist/policy/transforms/generalize.js',
      `m.generalize.compile({ method: 'h3' });`,
    );
    expect(h3Policy).toContain('h3-js');
  });

  it.each([
    'dist/cli/audit-commands.js',
    'dist/cli/gbt32960-commands.js',
    'dist/cli/incident-commands.js',
    'dist/cli/oem-commands.js',
    'dist/cli/policy-commands.js',
  ])('%s declares its commands loading nothing but commander', async (module) => {
    expect((await packagesLoadedBy(module)).filter((p) => p !== 'commander')).toEqual([]);
  });
});
