/**
 * `shekara backup`: an online, consistent copy of the SQLite store (records, account data,
 * egress log, and the keys that never leave the country) while the gateway keeps running.
 * Uses SQLite's backup API, so the copy is a valid database even under write load.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { PRIVATE_FILE_MODE } from '../keys/private-dir.js';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfigFile } from '../config/load.js';
import { ShekaraError } from '../errors.js';
import { cliIo } from './io.js';

export async function backupCommand(opts: { config?: string; to: string }): Promise<void> {
  const config = loadConfigFile(opts.config, { env: cliIo().env });
  if (config.store.kind !== 'sqlite') {
    throw new ShekaraError(
      'SHK_CONFIG_INVALID',
      `shekara backup copies a SQLite store; this config uses ${config.store.kind}: back it up with pg_dump --schema=${config.store.schema} (docs/deployment.md)`,
    );
  }
  const file = path.resolve(config.dataDir, config.store.file);
  if (config.store.file === ':memory:' || !existsSync(file)) {
    throw new ShekaraError('SHK_CONFIG_INVALID', `no store file at ${file} to back up`);
  }
  if (existsSync(opts.to))
    throw new ShekaraError('SHK_CONFIG_INVALID', `--to ${opts.to} exists; refusing to overwrite a backup`);
  // Created owner-only before SQLite writes into it (an empty file is an empty database).
  writeFileSync(opts.to, '', { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    let last = 0;
    await db.backup(opts.to, {
      progress: ({ totalPages, remainingPages }) => {
        const pct = Math.floor(((totalPages - remainingPages) / Math.max(1, totalPages)) * 100);
        if (pct >= last + 10) {
          cliIo().stderr.write(`backup: ${pct}%\n`);
          last = pct;
        }
        return 1_000; // pages per step: lets the gateway's writers in between steps
      },
    });
  } finally {
    db.close();
  }
  cliIo().stdout.write(
    `backup of ${file} written to ${opts.to}\n  it holds personal data (its keys are sealed: back up ${config.keys.dir} apart from it): store it encrypted, in the country.\n`,
  );
}
