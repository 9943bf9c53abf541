#!/usr/bin/env node
/**
 * deploy/check-config.mjs — run the gateway's own `shekara config check` on a deployment config
 * (the Helm chart's rendered shekara.yaml, the compose file's), with this build's schema.
 *
 *   node deploy/check-config.mjs <shekara.yaml> [--store-url URL]
 *
 * Every key is checked as the gateway would at start. A PostgreSQL store's URL comes from the
 * deployment's Secret or environment, so `--store-url` stands in for it. Needs `npm run build`
 * (dist/, which bin/shekara.js runs) first.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Checks `file` with `node bin/shekara.js config check`. The copy is written beside the
 * original, so relative policy paths resolve as they do for the gateway.
 * Returns { ok, output }.
 */
export async function checkConfigFile(file, { storeUrl = 'postgres://config-check@127.0.0.1:5432/config-check' } = {}) {
  if (!existsSync(path.join(root, 'dist/cli/main.js')))
    throw new Error(`${path.join(root, 'dist')} is missing: run \`npm run build\` first`);
  const text = readFileSync(file, 'utf8');
  const storeIsPostgres = parse(text)?.store?.kind === 'postgres';
  const copy = path.join(path.dirname(path.resolve(file)), `.config-check-${randomUUID()}.yaml`);
  try {
    writeFileSync(copy, text);
    // The store URL stands in for the Secret / compose environment that supplies it in a deployment.
    const env = { ...process.env, ...(storeIsPostgres ? { SHEKARA_STORE_URL: storeUrl } : {}) };
    delete env.SHEKARA_CONFIG;
    const r = spawnSync(process.execPath, [path.join(root, 'bin/shekara.js'), 'config', 'check', copy], {
      encoding: 'utf8',
      env,
    });
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.replaceAll(copy, file).trim();
    return { ok: r.status === 0, output };
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
    process.exit(r.ok ? 0 : 1);
  } catch (e) {
    process.stderr.write(`check-config: ${e.message}\n`);
    process.exit(1);
  }
}
