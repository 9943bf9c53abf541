/**
 * What a CLI command loads before it runs. Every `shekara` spawn pays for its imports, and the
 * suite spawns the CLI about a hundred times: a command on the store (the built dist/, as an
 * operator runs it) must not load the MQTT client (only an external broker's credential sync
 * needs it) nor the OpenTelemetry SDK (only `shekara start` with telemetry on needs it), nor the
 * PostgreSQL driver on a SQLite store. The gateway itself (`shekara start`, spawned some sixty
 * times by the suite) loads only what its config turns on: no Kafka client for the local queue.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
  // A file, not `-e`: a worker thread the probe starts (the gateway's egress thread) inherits
  // process.execArgv, and `--input-type` is refused there.
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-probe-'));
  try {
    writeFileSync(path.join(dir, 'probe.mjs'), probe);
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, 'probe.mjs')]);
    return JSON.parse(stdout) as string[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

  it('a store command on SQLite loads no PostgreSQL driver', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-cli-imports-'));
    try {
      const loaded = await packagesLoadedBy(
        'dist/store/index.js',
        `const store = await m.createStore({ kind: 'sqlite', file: 'shekara.db' }, ${JSON.stringify(dir)});
         await store.close();`,
      );
      expect(loaded).toContain('better-sqlite3'); // the store was opened
      expect(loaded).not.toContain('pg');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // undici too: this thread delivers nothing (the egress thread does, and loads it at its first POST).
  it('a gateway on SQLite, local queue, telemetry off, loads no Kafka, PostgreSQL, MQTT client or OTel SDK', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-cli-imports-'));
    const config = path.join(dir, 'shekara.yaml');
    writeFileSync(
      config,
      ['dataDir: ./data', 'mqtt: { host: 127.0.0.1, port: 0 }', 'http: { host: 127.0.0.1, port: 0 }'].join('\n'),
    );
    try {
      const loaded = await packagesLoadedBy(
        'dist/cli/start.js',
        `let banner = '';
         const gw = await m.startGateway({ config: ${JSON.stringify(config)} }, { write: (s) => (banner += s) });
         await gw.close();
         if (!banner.includes('Shekara gateway is up.')) throw new Error('no banner: ' + banner);`,
      );
      expect(loaded).toEqual(expect.arrayContaining(['fastify', 'better-sqlite3'])); // the gateway ran
      const heavy = (p: string) =>
        ['kafkajs', 'pg', 'mqtt', 'undici'].includes(p) ||
        (p.startsWith('@opentelemetry/') && !['@opentelemetry/api'].includes(p));
      expect(loaded.filter(heavy)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
