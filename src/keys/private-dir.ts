/**
 * Owner-only files for everything that holds personal data or keys: the data directory, the
 * key directory, the store and its WAL/SHM files, backups and exports. A directory others can
 * enter or read is refused at start-up with the command that fixes it; one Shekara creates is
 * 0700, a file 0600.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { ShekaraError } from '../errors.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (0700) when missing; refuses it when others (not owner, not group: a volume's
 * fsGroup is how Kubernetes gives the pod its own disk) may read, write or enter it.
 */
export function ensurePrivateDir(dir: string, what: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = statSync(dir);
  if (!st.isDirectory()) throw new ShekaraError('SHK_UNSAFE_PERMISSIONS', `${what} ${dir} is not a directory`);
  if ((st.mode & 0o007) !== 0) {
    throw new ShekaraError(
      'SHK_UNSAFE_PERMISSIONS',
      `${what} ${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}): it holds personal data or keys; run \`chmod 700 ${dir}\` and start again`,
    );
  }
}

/** Makes each existing file owner-only (0600); missing ones are skipped (a WAL not yet written). */
export function makePrivate(...files: string[]): void {
  for (const f of files) if (existsSync(f)) chmodSync(f, PRIVATE_FILE_MODE);
}
