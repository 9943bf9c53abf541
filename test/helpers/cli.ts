/**
 * The `shekara` command line in tests, two ways. `shekara` runs `runCli` in this process: the
 * function bin/shekara.js calls, with the same argv, output and exit code, without a node start
 * and its imports per command (0.13–0.65 CPU-s each). `shekaraBinary` spawns the built binary:
 * for what only a process shows (exit statuses as the shell sees them, signals, a gateway).
 * Both run with SHEKARA_CONFIG unset to '' so the caller's environment never picks a config.
 */
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { buildIsCurrent } from '../../src/thread-entry.js';
import { runProcess } from './run.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written to it, as text. */
function collector(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** `shekara ARGS…` in this process. */
export async function shekara(...args: string[]): Promise<CliResult> {
  const stdout = collector();
  const stderr = collector();
  const code = await runCli(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { ...process.env, SHEKARA_CONFIG: '' },
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** `node bin/shekara.js ARGS…` in a child process (needs the build: `npm test` builds first). */
export const shekaraBinary = async (...args: string[]): Promise<CliResult> => {
  const r = await runProcess(process.execPath, ['bin/shekara.js', ...args], {
    env: { ...process.env, SHEKARA_CONFIG: '' },
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
};

/**
 * Node arguments that start the CLI as a process: the built binary while dist/ is current (the
 * rule worker threads follow, src/thread-entry.ts), else the sources through tsx, so an edit not
 * yet built is never run stale and a current build skips tsx's ~0.5 CPU-s start.
 */
export function cliProcessArgs(): string[] {
  return buildIsCurrent() ? ['bin/shekara.js'] : ['--import', 'tsx', 'test/helpers/cli-process.ts'];
}
