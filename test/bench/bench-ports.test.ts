/**
 * bench/procs.ts: the bench's ports are fixed, so a run beside another (another checkout's, on
 * this shared machine) used to start brokers that could not bind, then measure the other run's
 * listeners. A taken port now fails at once, and a run waits for the one holding the lock.
 * Checked on ports the system picks, never the bench's own (a real run may hold them).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertFree, benchLock, listeningOrKilled } from '../../bench/procs.js';

const listen = (port = 0) =>
  new Promise<Server>((resolve) => {
    const s = createServer();
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
const portOf = (s: Server) => (s.address() as { port: number }).port;
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

describe('bench › ports', () => {
  it('refuses a port something already listens on, and takes a free one', async () => {
    const other = await listen();
    const port = portOf(other);
    await expect(assertFree(port)).rejects.toThrow(/already in use/);
    await close(other);
    await expect(assertFree(port)).resolves.toBeUndefined();
  });

  it('lets one run hold the lock; the next waits until it is released', async () => {
    const probe = await listen();
    const port = portOf(probe);
    await close(probe);
    const lines: string[] = [];
    const first = await benchLock(port, (l) => lines.push(`first: ${l}`), 20);
    let second: Server | undefined;
    const waiting = benchLock(port, (l) => lines.push(`second: ${l}`), 20).then((s) => (second = s));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (lines.some((l) => l.startsWith('second: another bench run'))) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    expect(second).toBeUndefined(); // still waiting while the first holds it
    await close(first);
    await waiting;
    expect(lines.at(-1)).toMatch(/^second: .* free: this run goes on$/);
    await close(second!);
  });

  it('kills a broker that never listens, so it cannot hold the ports of the parts after it', async () => {
    const probe = await listen();
    const port = portOf(probe);
    await close(probe);
    const stuck = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await expect(listeningOrKilled(port, stuck, 300)).rejects.toThrow(
        /nothing listens on 127\.0\.0\.1:\d+ after 300 ms/,
      );
      expect(stuck.signalCode).toBe('SIGKILL');
    } finally {
      stuck.kill('SIGKILL'); // on a failure too: never leave it running
    }
  });
});
