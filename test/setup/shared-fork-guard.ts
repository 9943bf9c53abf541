/**
 * Loaded by the `sqlite-shared` project only (test/setup/shared-fork-files.ts), before each of its
 * files, in a worker that the next file reuses. What one file leaves behind the next would see,
 * so a file fails here when it starts a process, changes process.env, or leaves a socket
 * listening, instead of another file failing later for no reason of its own.
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { afterAll, beforeAll } from 'vitest';
import { eventually } from '../helpers/wait.js';

function refuse(): never {
  throw new Error('a file in the sqlite-shared project must not start a process (test/setup/shared-fork-files.ts)');
}
for (const name of ['spawn', 'spawnSync', 'exec', 'execFile', 'execSync', 'execFileSync', 'fork'] as const) {
  Object.defineProperty(childProcess, name, { value: refuse, configurable: true });
}
syncBuiltinESMExports(); // `import { spawn } from 'node:child_process'` sees the refusal too

const listening = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
let env: string;
let servers: number;

beforeAll(() => {
  env = JSON.stringify(Object.entries(process.env).sort(([a], [b]) => (a < b ? -1 : 1)));
  servers = listening();
});

afterAll(async () => {
  const now = JSON.stringify(Object.entries(process.env).sort(([a], [b]) => (a < b ? -1 : 1)));
  if (now !== env)
    throw new Error('this file changed process.env and did not restore it: the next file in the worker would see it');
  // A server's close() frees its handle a turn or so after the test's await: wait while it goes.
  await eventually(
    () => listening() <= servers,
    5_000,
    'the sockets this file left listening to close (close every gateway and server it opens)',
  );
});
