/**
 * `shekara verify`: the regulator's check, on its own machine, with only an export, one or two
 * checkpoints and the log's public key. Exit 0: verified. Exit 1: something failed; stderr says
 * what and where. Leaves after the largest checkpoint fail too, unless --allow-unsigned-tail. Progress goes to stderr on large exports.
 */
import { accessSync, constants, createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ShekaraError } from '../errors.js';
import { verifyExport } from '../audit/verify.js';
import { verifyPackCommand } from './report.js';
import { cliIo } from './io.js';

export interface VerifyOptions {
  export?: string;
  checkpoint?: string[];
  /** An evidence pack (`shekara evidence`) instead of --export and --checkpoint. */
  pack?: string;
  pubkey: string;
  entry?: number;
  quiet?: boolean;
  allowUnsignedTail?: boolean;
}

const readText = (file: string, what: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ShekaraError('SHK_CONFIG_FILE', `cannot read ${what} ${file}: ${(cause as Error).message}`, { cause });
  }
};

export async function verifyCommand(opts: VerifyOptions): Promise<void> {
  // The key may be given inline or as a file holding it.
  const pubkey = /^[^\s+]+\+[0-9a-f]{8}\+/.test(opts.pubkey)
    ? opts.pubkey
    : readText(opts.pubkey, 'public key file').trim();
  if (opts.pack !== undefined) return verifyPackCommand(opts.pack, pubkey);
  if (opts.export === undefined || !opts.checkpoint?.length)
    throw new ShekaraError('SHK_CONFIG_FILE', 'give --export and --checkpoint, or --pack');
  const exportFile = opts.export;
  const checkpoints = opts.checkpoint.map((file) => ({ label: file, note: readText(file, 'checkpoint') }));
  try {
    accessSync(exportFile, constants.R_OK); // fail early, with the file named, if it cannot be read
  } catch (cause) {
    throw new ShekaraError('SHK_CONFIG_FILE', `cannot read export ${exportFile}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const lines = createInterface({ input: createReadStream(exportFile, 'utf8'), crlfDelay: Infinity });
  const started = Date.now();
  let lastShown = started;
  const report = await verifyExport({
    lines,
    checkpoints,
    verifierKey: pubkey,
    ...(opts.entry !== undefined ? { entrySeq: opts.entry } : {}),
    onProgress: (n) => {
      if (!opts.quiet && Date.now() - lastShown > 1_000) {
        lastShown = Date.now();
        cliIo().stderr.write(`verify: ${n} leaves checked…\n`);
      }
    },
  });
  // Leaves after the largest checkpoint hash correctly but nothing signed them: anyone with
  // the file could have appended them. Unless asked to, that is a failure (exit 1), not a note.
  if (report.uncovered > 0 && !opts.allowUnsignedTail) {
    const largest = Math.max(...report.checkpoints.map((c) => c.size));
    throw new ShekaraError(
      'SHK_AUDIT_CHECKPOINT',
      `${report.uncovered} leaves after the largest checkpoint (size ${largest}) are not covered by a signature; verify against a newer checkpoint, or pass --allow-unsigned-tail to accept them unsigned`,
      { details: { reason: 'unsigned-tail', uncovered: report.uncovered, size: largest } },
    );
  }
  // -q: the exit status is the answer; failures still go to stderr (as every CLI error does).
  if (opts.quiet) return;
  const out = [
    `verified: ${report.leaves} leaves of ${report.origin} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ...report.checkpoints.map(
      (c) =>
        `  checkpoint ${c.label}: size ${c.size}, root ${c.root} — signature good, root recomputed from the export`,
    ),
    ...(report.consistency
      ? [
          `  consistent: size ${report.consistency.from} → ${report.consistency.to} (RFC 9162 consistency proof of ${report.consistency.proofHashes} hashes)`,
        ]
      : []),
    ...(report.entry
      ? [
          `  entry seq ${report.entry.seq} (leaf ${report.entry.index}) is included in checkpoint ${report.entry.checkpointSize} (proof of ${report.entry.proofHashes} hashes)`,
        ]
      : []),
    ...(report.uncovered > 0
      ? [
          `  note: ${report.uncovered} leaves after the largest checkpoint are not covered by a signature (accepted: --allow-unsigned-tail)`,
        ]
      : []),
  ];
  cliIo().stdout.write(`${out.join('\n')}\n`);
}
