/**
 * `shekara report NAME`: a report of src/reports from the config's store, as JSON (default) or
 * printable HTML, computed against a checkpoint signed now with the log's key (as the gateway
 * signs them), so the document can be checked against the log like the API's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfigFile } from '../config/load.js';
import { createStore, type Store } from '../store/index.js';
import { createAuditLog } from '../audit/index.js';
import { createLogger } from '../log.js';
import { reportHtml, runReport } from '../reports/index.js';
import type { Config } from '../config/schema.js';
import { buildEvidencePack, verifyEvidencePack, type EvidencePack } from '../reports/evidence.js';
import { ShekaraError } from '../errors.js';
import { cliIo } from './io.js';

/** Signs a checkpoint over the log as it is now (the CLI's own signer run; no timer left behind). */
export async function checkpointNow(store: Store, config: Readonly<Config>) {
  const audit = await createAuditLog(
    { ...config.audit, checkpointIntervalMs: 3_600_000 },
    { store, log: createLogger('silent') },
  );
  try {
    return { checkpoint: await audit.checkpointNow(), verifierKey: audit.verifierKey };
  } finally {
    await audit.close();
  }
}

export async function reportCommand(
  name: string,
  opts: { config?: string; from?: string; to?: string; since?: string; format: 'json' | 'html'; out?: string },
): Promise<void> {
  const config = loadConfigFile(opts.config, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir, config.keys);
  try {
    const env = await runReport(
      name,
      { from: opts.from, to: opts.to, since: opts.since },
      { store, config, checkpoint: (await checkpointNow(store, config)).checkpoint, now: Date.now() },
    );
    const text = opts.format === 'html' ? reportHtml(env) : `${JSON.stringify(env, null, 2)}\n`;
    if (opts.out) {
      writeFileSync(opts.out, text);
      cliIo().stderr.write(`${env.title}: written to ${opts.out} (checkpoint ${env.checkpoint.size})\n`);
    } else cliIo().stdout.write(text);
  } finally {
    await store.close();
  }
}

/** `shekara evidence`: the evidence pack (src/reports/evidence.ts) for a period, as one JSON file. */
export async function evidenceCommand(opts: {
  config?: string;
  from?: string;
  to?: string;
  out: string;
}): Promise<void> {
  const config = loadConfigFile(opts.config, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir);
  try {
    const { checkpoint } = await checkpointNow(store, config);
    const pack = await buildEvidencePack(
      { store, config, checkpoint, now: Date.now() },
      { from: opts.from, to: opts.to },
    );
    writeFileSync(opts.out, `${JSON.stringify(pack)}\n`);
    cliIo().stderr.write(
      `evidence pack: ${pack.log.length} leaves, ${pack.reports.length} reports, ${pack.policyVersions.length} policy versions, ${pack.incidents.length} incidents, checkpoint ${checkpoint.size} → ${opts.out}\n`,
    );
  } finally {
    await store.close();
  }
}

/** `shekara verify --pack FILE --pubkey KEY`: checks an evidence pack offline. */
export async function verifyPackCommand(file: string, pubkey: string): Promise<void> {
  let pack: EvidencePack;
  try {
    pack = JSON.parse(readFileSync(file, 'utf8')) as EvidencePack;
  } catch (cause) {
    throw new ShekaraError('SHK_CONFIG_FILE', `cannot read evidence pack ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const r = await verifyEvidencePack(pack, pubkey);
  cliIo().stdout.write(
    `verified evidence pack: ${r.leaves} leaves of ${r.origin}; ${r.checkpoints.length} checkpoints (the pack's and ${r.reports} reports') signed and matching the log; ${r.policyVersions} policy texts match their hashes; ${r.incidents} incidents match their leaves\n`,
  );
}
