/**
 * A child process run to its end without blocking the test's event loop. vitest's worker talks to
 * the runner over RPC with a 60 s timeout per call; a synchronous child process (spawnSync,
 * execFileSync) blocks that loop, and one that runs past the timeout (a JVM render under load, a
 * slow check) ends the whole run with "Timeout calling onTaskUpdate" and no serial files run.
 */
import { execFile } from 'node:child_process';

export interface Finished {
  /** Exit code, or null when killed by a signal or never started. */
  status: number | null;
  stdout: string;
  /** What the process wrote to stderr, then why it could not start or was killed, if so. */
  stderr: string;
}

export function runProcess(
  file: string,
  args: string[],
  options: { timeout?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...options }, (err, stdout, stderr) => {
      const failure = err as (Error & { code?: unknown; killed?: boolean; signal?: string }) | null;
      const status = failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null;
      const why = failure && status === null ? `${failure.message}\n` : '';
      resolve({ status, stdout, stderr: `${stderr}${why}` });
    });
  });
}
