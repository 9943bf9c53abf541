import { createWriteStream } from 'node:fs';
import { PRIVATE_FILE_MODE } from '../keys/private-dir.js';
import { once } from 'node:events';
import { loadConfigFile } from '../config/load.js';
import { createStore } from '../store/index.js';
import { loadOrCreateSigner } from '../audit/index.js';
import { exportLines } from '../audit/export.js';
import { ShekaraError } from '../errors.js';
import { cliIo } from './io.js';

/** Prints the egress log's verifier key (creating the signing key if the gateway never ran). */
export async function auditPubkeyCommand(opts: { config?: string }): Promise<void> {
  const config = loadConfigFile(opts.config, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir, config.keys);
  try {
    cliIo().stdout.write(`${(await loadOrCreateSigner(store, config.audit.origin)).verifierKey}\n`);
  } finally {
    await store.close();
  }
}

/** Prints a stored checkpoint note (the latest, or the one of --size). */
export async function auditCheckpointCommand(opts: { config?: string; size?: number }): Promise<void> {
  const config = loadConfigFile(opts.config, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir, config.keys);
  try {
    const cp = opts.size === undefined ? await store.latestCheckpoint() : await store.getCheckpoint(opts.size);
    if (!cp)
      throw new ShekaraError(
        'SHK_CONFIG_INVALID',
        opts.size === undefined
          ? 'no checkpoint has been signed yet: start the gateway once'
          : `no checkpoint of size ${opts.size}`,
      );
    cliIo().stdout.write(cp.note);
  } finally {
    await store.close();
  }
}

/**
 * The checkpoint history, newest first, a page at a time: a line per checkpoint, and on stderr
 * the --before for the next page when there is one.
 */
export async function auditCheckpointsCommand(opts: {
  config?: string;
  before?: number;
  limit: number;
  json?: boolean;
}): Promise<void> {
  if (opts.limit < 1 || opts.limit > 1_000) throw new ShekaraError('SHK_BAD_REQUEST', '--limit: 1 to 1000');
  const config = loadConfigFile(opts.config, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir, config.keys);
  try {
    const rows = await store.listCheckpoints(opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit + 1);
    const page = rows.slice(0, opts.limit);
    const next = rows.length > opts.limit ? page.at(-1)!.size : null;
    const b64 = (b: Buffer) => b.toString('base64');
    if (opts.json) {
      const checkpoints = page.map((c) => ({
        origin: config.audit.origin,
        size: c.size,
        rootHash: b64(c.root),
        signedAt: new Date(c.signedAt).toISOString(),
        note: c.note,
      }));
      cliIo().stdout.write(`${JSON.stringify({ checkpoints, nextCursor: next === null ? null : String(next) })}\n`);
      return;
    }
    for (const c of page) cliIo().stdout.write(`${c.size}\t${new Date(c.signedAt).toISOString()}\t${b64(c.root)}\n`);
    if (next !== null) cliIo().stderr.write(`more: --before ${next}\n`);
  } finally {
    await store.close();
  }
}

/** Writes the verifiable export (every leaf up to a checkpoint's size) to --out or stdout. */
export async function auditExportCommand(opts: { config?: string; size?: number; out?: string }): Promise<void> {
  const config = loadConfigFile(opts.config, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir, config.keys);
  try {
    const size = opts.size ?? (await store.latestCheckpoint())?.size ?? 0;
    const treeSize = await store.auditTreeSize();
    if (size > treeSize)
      throw new ShekaraError('SHK_CONFIG_INVALID', `--size ${size} is beyond the tree (${treeSize} leaves)`);
    // Owner-only: an export names OEMs, purposes and record ids.
    const out = opts.out ? createWriteStream(opts.out, { mode: PRIVATE_FILE_MODE }) : cliIo().stdout;
    for await (const line of exportLines(store, size)) if (!out.write(line)) await once(out, 'drain');
    if (opts.out)
      await new Promise<void>((resolve, reject) =>
        (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    cliIo().stderr.write(`exported ${size} leaves${opts.out ? ` to ${opts.out}` : ''}\n`);
  } finally {
    await store.close();
  }
}
