#!/usr/bin/env node
/**
 * Checks the manifests `helm template` rendered (one <scenario>.yaml per values set), as far as
 * this machine can without a cluster:
 * - every document parses as YAML and has apiVersion, kind and metadata.name;
 * - the default values render every kind a production install needs (REQUIRED_KINDS);
 * - each ConfigMap's shekara.yaml, with the policies it mounts beside it, passes the gateway's
 *   own `shekara config check` (deploy/check-config.mjs says which contract keys this build
 *   cannot check yet).
 *
 *   node deploy/helm-check/validate.mjs <dir with rendered *.yaml>
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { checkConfigFile } from '../check-config.mjs';

export const REQUIRED_KINDS = [
  'Deployment',
  'Service',
  'ConfigMap',
  'Secret',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
];

/** Parses a multi-document render; throws with the document's position on the first problem. */
export function parseManifests(text, source) {
  const docs = [];
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0)
      throw new Error(`${source}: document ${i + 1} is not valid YAML: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue; // an empty document (a template whose condition is off)
    const where = `${source}: document ${i + 1}`;
    if (typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${where}: not a mapping`);
    for (const key of ['apiVersion', 'kind']) {
      if (typeof obj[key] !== 'string' || obj[key] === '') throw new Error(`${where}: has no ${key}`);
    }
    if (typeof obj.metadata?.name !== 'string') throw new Error(`${where} (${obj.kind}): has no metadata.name`);
    docs.push(obj);
  }
  return docs;
}

/** Lays out what the pod's projected volume holds (shekara.yaml, policies/) and config-checks it. */
async function checkRenderedConfig(docs, source) {
  const cm = docs.find((d) => d.kind === 'ConfigMap' && typeof d.data?.['shekara.yaml'] === 'string');
  if (!cm) throw new Error(`${source}: no ConfigMap with shekara.yaml`);
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-helm-config-'));
  try {
    mkdirSync(path.join(dir, 'policies'));
    for (const [key, text] of Object.entries(cm.data)) {
      if (key.startsWith('policy.')) writeFileSync(path.join(dir, 'policies', key.slice('policy.'.length)), text);
    }
    const file = path.join(dir, 'shekara.yaml');
    writeFileSync(file, cm.data['shekara.yaml']);
    const secret = docs.find((d) => d.kind === 'Secret' && d.data?.['store-url']);
    const storeUrl = secret ? Buffer.from(secret.data['store-url'], 'base64').toString('utf8') : undefined;
    const r = await checkConfigFile(file, storeUrl ? { storeUrl } : {});
    const output = r.output.replaceAll(dir, '/etc/shekara');
    if (!r.ok) throw new Error(`${source}: the ConfigMap's shekara.yaml fails the gateway's config check:\n${output}`);
    return { output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function validateRendered(outDir) {
  const files = readdirSync(outDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  if (!files.includes('default.yaml'))
    throw new Error(`${outDir}: no default.yaml (the render with the chart's own values)`);
  const lines = [];
  for (const f of files) {
    const docs = parseManifests(readFileSync(path.join(outDir, f), 'utf8'), f);
    const kinds = [...new Set(docs.map((d) => d.kind))].sort();
    if (f === 'default.yaml') {
      const missing = REQUIRED_KINDS.filter((k) => !kinds.includes(k));
      if (missing.length > 0) throw new Error(`default.yaml: the default values render no ${missing.join(', ')}`);
    }
    const cfg = await checkRenderedConfig(docs, f);
    lines.push(`${f}: ${docs.length} manifests (${kinds.join(', ')}), all with apiVersion and kind`);
    lines.push(...cfg.output.split('\n').map((l) => `${f}: ${l}`));
  }
  return lines;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node deploy/helm-check/validate.mjs <dir with rendered *.yaml>\n');
    process.exit(2);
  }
  try {
    for (const line of await validateRendered(dir)) process.stdout.write(`validate: ${line}\n`);
  } catch (e) {
    process.stderr.write(`validate: ${e.message}\n`);
    process.exit(1);
  }
}
