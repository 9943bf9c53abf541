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
