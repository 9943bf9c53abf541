/**
 * What a CLI command loads before it runs. Every `shekara` spawn pays for its imports, and the
 * suite spawns the CLI about a hundred times: a command on the store (the built dist/, as an
 * operator runs it) must not load the MQTT client (only an external broker's credential sync
 * needs it) nor the OpenTelemetry SDK (only `shekara start` with telemetry on needs it), nor the
 * PostgreSQL driver on a SQLite store. The gateway itself (`shekara start`, spawned some sixty
 * times by the suite) loads only what its config turns on: no Kafka client for the local queue.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** Probe code printing the npm packages of the probe's require cache (CommonJS), as JSON. */
const PRINT_PACKAGES = `
  const names = Object.keys(createRequire(import.meta.url).cache)
    .filter((k) => k.includes('/node_modules/'))
    .map((k) => k.split('/node_modules/').pop().split('/'))
    .map(([a, b]) => (a.startsWith('@') ? a + '/' + b : a));
  console.log(JSON.stringify([...new Set(names)].sort()));`;

/**
 * The npm packages (CommonJS, as Node's require cache sees them) that importing `module` loads,
 * then running `then` (JavaScript, the module as `m`).
 */
async function packagesLoadedBy(module: string, then = ''): Promise<string[]> {
  const probe = `
    import { createRequire } from 'node:module';
    const m = await import(${JSON.stringify(new URL(`../../${module}`, import.meta.url).href)});
    ${then}
    ${PRINT_PACKAGES}`;
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

/** A loader hook that appends every module URL a thread resolves to `thread-<threadId>.txt` in $MODULE_LOG_DIR. */
const MODULE_LOG = {
  'register.mjs': `
    import { register } from 'node:module';
    import { threadId } from 'node:worker_threads';
    register('./hooks.mjs', import.meta.url, { data: process.env.MODULE_LOG_DIR + '/thread-' + threadId + '.txt' });`,
  'hooks.mjs': `
    import { appendFileSync } from 'node:fs';
    let out;
    export function initialize(file) { out = file; }
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      appendFileSync(out, r.url + '\\n');
      return r;
    }`,
};

/**
 * The ES modules each thread resolves while `dist/cli/start.js` runs the gateway on `configLines`
 * (a SQLite store in a temp dir) to ready and closes it, and the CommonJS packages of the main
 * thread's require cache. ES modules as their URLs: the gateway's own and ESM-only packages
 * (@sinclair/typebox) never show in a require cache, and a worker thread has its own. The
 * threads inherit the hook with the probe's command line (the egress thread does; the writer
 * and self-check threads take only profiler flags and are not seen).
 */
async function modulesOfGateway(configLines: string[]): Promise<{ threads: string[][]; packages: string[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-module-log-'));
  try {
    for (const [name, text] of Object.entries(MODULE_LOG)) writeFileSync(path.join(dir, name), text);
    writeFileSync(
      path.join(dir, 'shekara.yaml'),
      [
        'dataDir: ./data',
        'mqtt: { host: 127.0.0.1, port: 0 }',
        'http: { host: 127.0.0.1, port: 0 }',
        ...configLines,
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'probe.mjs'),
      `import { createRequire } from 'node:module';
       const m = await import(${JSON.stringify(new URL('../../dist/cli/start.js', import.meta.url).href)});
       let banner = '';
       const gw = await m.startGateway({ config: ${JSON.stringify(path.join(dir, 'shekara.yaml'))} }, { write: (s) => (banner += s) });
       await gw.close();
       if (!banner.includes('Shekara gateway is up.')) throw new Error('no banner: ' + banner);
       ${PRINT_PACKAGES}`,
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, path.join(dir, 'probe.mjs')],
      { env: { ...process.env, MODULE_LOG_DIR: dir } },
    );
    const threads = readdirSync(dir)
      .filter((f) => f.startsWith('thread-'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean));
    return { threads, packages: JSON.parse(stdout) as string[] };
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
  describe('a gateway with the defaults loads what its config turns on and nothing else', () => {
    // Each started once, by the first case that needs it.
    const once = <T>(f: () => Promise<T>) => {
      let p: Promise<T> | undefined;
      return () => (p ??= f());
    };
    const defaults = once(() => modulesOfGateway([]));
    const withGbt = once(() =>
      modulesOfGateway([
        'gbt32960: { enabled: true, tcp: { enabled: true, host: 127.0.0.1, port: 0, allowFrom: [127.0.0.0/8] } }',
      ]),
    );
    const gbtServer = (urls: string[]) => urls.some((u) => u.endsWith('/dist/ingest/gbt32960/server.js'));

    it('the egress thread does not load the config schema builder (@sinclair/typebox)', async () => {
      const { threads } = await defaults();
      const egress = threads.filter((urls) => urls.some((u) => u.endsWith('/dist/egress/thread-main.js')));
      expect(egress).toHaveLength(1); // the hook saw the egress thread
      expect(egress[0]!.filter((u) => u.includes('/node_modules/@sinclair/typebox/'))).toEqual([]);
      expect(egress[0]!.some((u) => u.endsWith('/dist/egress/deliver.js'))).toBe(true);
    });

    it('GB/T 32960 ingest is loaded only when gbt32960.enabled', async () => {
      expect((await defaults()).threads.filter(gbtServer)).toEqual([]);
      expect((await withGbt()).threads.filter(gbtServer)).toHaveLength(1);
    });

    // Loaded with the first route schema compiled (src/api/schema-compilers.ts); the pre-generated
    // config and policy validators need only ajv's small runtime helpers.
    it('no route schema compiler (ajv, fast-json-stringify) before a validated request', async () => {
      const { packages } = await defaults();
      expect(packages).toEqual(expect.arrayContaining(['fastify', 'better-sqlite3'])); // the gateway ran
      const compilers = ['@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler', 'ajv-formats'];
      expect(packages.filter((p) => compilers.includes(p))).toEqual([]);
    });
  });
});
