/**
 * Loaded only by vitest.unit.config.ts. A unit test exercises one module in memory: it MUST NOT
 * listen on a socket, connect to one, or start a process. Any attempt throws, so a file that
 * needs real parts fails here and belongs in the full suite only.
 */
import childProcess from 'node:child_process';
import net from 'node:net';

function refuse(what: string): never {
  throw new Error(`unit tests must not ${what}; run this file with \`npx vitest run\` instead (npm run test:unit)`);
}

net.Server.prototype.listen = function listen(): never {
  return refuse('listen on a socket');
};
net.Socket.prototype.connect = function connect(): never {
  return refuse('open a socket');
};
for (const name of ['spawn', 'spawnSync', 'exec', 'execFile', 'execSync', 'execFileSync', 'fork'] as const) {
  Object.defineProperty(childProcess, name, { value: () => refuse('start a process'), configurable: true });
}
