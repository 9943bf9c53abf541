/**
 * CPU time of processes and threads, from Linux's /proc (user + system). CPU time, unlike wall or
 * busy time, leaves out waiting for the disk and for other processes, which make a shared
 * machine's timings noisy: the benches compare it.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ on Linux: /proc/<pid>/stat reports CPU time in 1/100 s. */
export const CLK_TCK = 100;

/** CPU seconds of `/proc/<of>/stat`: a pid, `self`, or `PID/task/TID` for one thread. Throws once it has gone. */
export function cpuSecondsOf(of: number | string): number {
  const stat = readFileSync(`/proc/${of}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the command may hold spaces
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime
}

export interface ThreadCpu {
  /** The thread's name (comm): Shekara's workers name themselves (shk-egress, shk-writer, …); Node's own say `node`. */
  name: string;
  /** CPU seconds so far. */
  s: number;
}

/** Each thread of a process by thread id (the main thread's id is the pid). A thread that ends while read is left out. */
export function threadCpu(pid: number | 'self'): Map<number, ThreadCpu> {
  const threads = new Map<number, ThreadCpu>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      threads.set(Number(tid), { name, s: cpuSecondsOf(`${pid}/task/${tid}`) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return threads;
}

/** The first process whose command line contains `needle`, if any. */
export function findProcess(needle: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) return Number(d);
    } catch {
      // gone
    }
  }
  return undefined;
}

/**
 * The threads of a Node process by role, for a CPU split: `main` (the event loop: the thread whose
 * id is the pid), the threads Shekara names (thread-entry.ts `nameThread`: shk-writer, shk-egress,
 * shk-selfcheck), and `helpers` for the rest (V8's GC and compiler threads, libuv's pool, the CPU
 * profiler's). A process that names no thread (Mosquitto) is all `main` and `helpers`.
 */
export function threadRoles(pid: number): Map<number, ThreadCpu> {
  return new Map(
    [...threadCpu(pid)].map(([tid, t]) => [
      tid,
      { ...t, name: tid === pid ? 'main' : t.name.startsWith('shk-') ? t.name : 'helpers' },
    ]),
  );
}

/**
 * CPU seconds by role between two readings of `threadRoles`, with how many threads each role
 * had. A thread that ended in between is missing (its CPU is still in the process's total).
 */
export function cpuByRole(
  before: Map<number, ThreadCpu>,
  after: Map<number, ThreadCpu>,
): Map<string, { s: number; n: number }> {
  const byRole = new Map<string, { s: number; n: number }>();
  for (const [tid, t] of after) {
    const a = byRole.get(t.name) ?? { s: 0, n: 0 };
    a.s += t.s - (before.get(tid)?.s ?? 0);
    a.n += 1;
    byRole.set(t.name, a);
  }
  return new Map([...byRole].sort((x, y) => y[1].s - x[1].s));
}
