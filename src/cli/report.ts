/**
 * `shekara report NAME`: a report of src/reports from the config's store, as JSON (default) or
 * printable HTML, computed against a checkpoint signed now with the log's key (as the gateway
 * signs them), so the document can be checked against the log like the API's.
 */
import { writeFileSync } from 'node:fs';
import { loadConfigFile } from '../config/load.js';
import { createStore, type Store } from '../store/index.js';
import { createAuditLog } from '../audit/index.js';
import { createLogger } from '../log.js';
import { reportHtml, runReport } from '../reports/index.js';
import type { Config } from '../config/schema.js';

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
  const config = loadConfigFile(opts.config);
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
      process.stderr.write(`${env.title}: written to ${opts.out} (checkpoint ${env.checkpoint.size})\n`);
    } else process.stdout.write(text);
  } finally {
    await store.close();
  }
}
