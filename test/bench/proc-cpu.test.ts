/**
 * bench/proc-cpu.ts splits a process's CPU by thread role, as the bench's throughput and latency
 * scenarios and bench/kafka-e2e.ts print it: `main` (the event loop), the threads the gateway
 * names `shk-…`, and `helpers` for V8's and libuv's own. Checked on this process with a worker
 * that names itself as the gateway's threads do and burns some CPU (no figure is asserted).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { cpuByRole, cpuSecondsOf, threadRoles } from '../../bench/proc-cpu.js';

// Names itself as src/thread-entry.ts `nameThread` does, then spins until /proc has seen 30 ms of its CPU.
const WORKER = `
const { readFileSync, writeFileSync } = require('node:fs');
const { parentPort } = require('node:worker_threads');
writeFileSync('/proc/thread-self/comm', 'shk-test');
const cpu = () => {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in ticks
};
parentPort.postMessage('named');
parentPort.once('message', () => {
  const until = cpu() + 3;
  while (cpu() < until);
  parentPort.postMessage('done');
});
`;

describe('bench › proc-cpu', () => {
  it("charges a named thread's CPU to its name, the event loop to main, the rest to helpers", async () => {
    const w = new Worker(WORKER, { eval: true });
    try {
      await new Promise((r) => w.once('message', r));
      const before = threadRoles(process.pid);
      expect(before.get(process.pid)?.name).toBe('main');
      expect([...before.values()].map((t) => t.name)).toContain('shk-test');
      for (const t of before.values()) expect(['main', 'shk-test', 'helpers']).toContain(t.name);
      const done = new Promise((r) => w.once('message', r));
      w.postMessage('spin');
      await done;
      const byRole = cpuByRole(before, threadRoles(process.pid));
      expect(byRole.get('shk-test')!.s).toBeGreaterThan(0);
      expect(byRole.get('shk-test')!.n).toBe(1);
      expect(cpuSecondsOf(process.pid)).toBeGreaterThan(0);
    } finally {
      await w.terminate();
    }
  });
});
