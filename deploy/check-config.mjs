#!/usr/bin/env node
/**
 * deploy/check-config.mjs — run the gateway's own `shekara config check` on a deployment config
 * (the Helm chart's rendered shekara.yaml, the compose file's), with this build's schema.
 *
 *   node deploy/check-config.mjs <shekara.yaml> [--store-url URL]
 *
 * Keys announced for the PostgreSQL store, telemetry and retention work that this build's schema
 * does not know yet (store.kind postgres, telemetry, retention) are named on stdout and left out of the checked copy; every other key
 * is checked as the gateway would at start. Once those keys are built in, the whole file is
 * checked and nothing is left out. Needs `npm run build` (dist/) first.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The announced keys (PostgreSQL store, telemetry, retention), and how to tell whether this build's schema has them. */
const CONTRACT_KEYS = [
  { name: 'store.kind=postgres', present: (cfg) => cfg.store?.kind === 'postgres', known: (s) => JSON.stringify(s.properties.store).includes('"postgres"'), remove: (cfg) => delete cfg.store },
  { name: 'telemetry', present: (cfg) => 'telemetry' in cfg, known: (s) => 'telemetry' in s.properties, remove: (cfg) => delete cfg.telemetry },
  { name: 'retention', present: (cfg) => 'retention' in cfg, known: (s) => 'retention' in s.properties, remove: (cfg) => delete cfg.retention },
];

/**
 * The config as this build can check it: `text` without the contract keys its schema lacks,
 * and `unchecked` naming them. A key the schema knows is always kept, so a mistake in it fails.
 */
export async function configForThisBuild(text) {
  const schemaJs = path.join(root, 'dist/config/schema.js');
  if (!existsSync(schemaJs)) throw new Error(`${schemaJs} is missing: run \`npm run build\` first`);
  const { ConfigSchema } = await import(pathToFileURL(schemaJs).href);
  const cfg = parse(text) ?? {};
  const unchecked = [];
  for (const key of CONTRACT_KEYS) {
    if (key.present(cfg) && !key.known(ConfigSchema)) {
      key.remove(cfg);
      unchecked.push(key.name);
    }
  }
  return { text: stringify(cfg), unchecked, storeIsPostgres: cfg.store?.kind === 'postgres' };
}

/**
 * Checks `file` with `node bin/shekara.js config check`. The copy is written beside the
 * original, so relative policy paths resolve as they do for the gateway.
 * Returns { ok, output, unchecked }.
 */
export async function checkConfigFile(file, { storeUrl = 'postgres://config-check@127.0.0.1:5432/config-check' } = {}) {
  const { text, unchecked, storeIsPostgres } = await configForThisBuild(readFileSync(file, 'utf8'));
  const copy = path.join(path.dirname(path.resolve(file)), `.config-check-${randomUUID()}.yaml`);
  try {
    writeFileSync(copy, text);
    // The store URL stands in for the Secret / compose environment that supplies it in a deployment.
    const env = { ...process.env, ...(storeIsPostgres ? { SHEKARA_STORE_URL: storeUrl } : {}) };
    delete env.SHEKARA_CONFIG;
    const r = spawnSync(process.execPath, [path.join(root, 'bin/shekara.js'), 'config', 'check', copy], { encoding: 'utf8', env });
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.replaceAll(copy, file).trim();
    return { ok: r.status === 0, output, unchecked };
  } finally {
    rmSync(copy, { force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const urlAt = args.indexOf('--store-url');
  const storeUrl = urlAt >= 0 ? args.splice(urlAt, 2)[1] : undefined;
  if (args.length !== 1 || args[0] === '--help' || args[0] === '-h') {
    process.stdout.write('usage: node deploy/check-config.mjs <shekara.yaml> [--store-url URL]\n');
    process.exit(args.length === 1 ? 0 : 2);
  }
  try {
    const r = await checkConfigFile(args[0], storeUrl ? { storeUrl } : {});
    process.stdout.write(`${r.output}\n`);
    if (r.unchecked.length > 0) {
      process.stdout.write(`not checked (announced keys this build's schema does not have yet): ${r.unchecked.join(', ')}\n`);
    }
    process.exit(r.ok ? 0 : 1);
  } catch (e) {
    process.stderr.write(`check-config: ${e.message}\n`);
    process.exit(1);
  }
}
