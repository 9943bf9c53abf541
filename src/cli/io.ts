/**
 * Where a CLI run writes and which environment it reads. `runCli` (main.ts) gives each run its
 * own; command code MUST write through `cliIo()` (never `process.stdout`/`process.stderr`) and
 * read the CLI's variables (SHEKARA_CONFIG, the config's SHEKARA_* overrides) from its `env`,
 * so two runs in one process (the test suite runs most commands in-process) see only their own
 * streams and environment. Outside a run it is the process's own: the binary's behaviour.
 *
 * Not covered: the store's key ring and the OpenTelemetry SDK read `process.env` themselves.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

// Per asynchronous context, not a module variable: runs that overlap keep their own streams.
// Entered only for a caller's own io (runCli): once entered, Node 20 hooks every promise.
const current = new AsyncLocalStorage<CliIo>();

/** The streams and environment of the run under way (the process's outside a run). */
export function cliIo(): CliIo {
  return current.getStore() ?? processIo();
}

/** Runs `fn` with `io` as what `cliIo()` returns inside it and everything it awaits. */
export function withCliIo<T>(io: CliIo, fn: () => T): T {
  return current.run(io, fn);
}

/** One line on the run's stdout. */
export const out = (s = ''): void => {
  cliIo().stdout.write(`${s}\n`);
};
