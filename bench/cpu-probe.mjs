/**
 * Where a test run's CPU goes, per process: loaded into every Node process of the run with
 * `NODE_OPTIONS=--import file:///…/bench/cpu-probe.mjs` and active only when
 * SHEKARA_CPU_PROBE_DIR names a directory (bench/cpu-attr.ts sets both; see there). Plain
 * JavaScript: the children it rides into (gateways, CLI calls) run without tsx.
 *
 * Each process writes one file, `<pid>.<start ticks>.jsonl` (pids wrap at 32768 within a run):
 * - `start`: argv, parent, start time — written at once, so a process SIGKILLed later is still
 *   known by its command line;
 * - `reap`: each time children of this process went away — the growth of this process's
 *   cumulative children CPU (/proc/self/stat cutime+cstime, exact: the kernel adds a child's
 *   whole CPU, its own reaped children included, when it is waited for) and the children that
 *   were last seen alive before it. A child killed by SIGKILL writes no `end` of its own; its
 *   CPU is in this delta. Children that start and end between two polls are in the delta too,
 *   unseen;
 * - `end`: process.resourceUsage() (this process's own CPU, every thread), its cumulative
 *   children CPU, max RSS, the vitest test files it ran (a fork worker), and the children still
 *   alive. Written on exit, and on SIGTERM/SIGINT/SIGHUP before the default death when the
 *   process has no handler of its own (with one, the handler decides and exit writes it).
 *
 * Children are polled from /proc/self/task/<tid>/children every POLL_MS: a child's command line,
 * its CPU so far (own and reaped descendants') and, in a vitest worker, the test file running
 * when it was first seen.
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const DIR = process.env.SHEKARA_CPU_PROBE_DIR;
const POLL_MS = 250;
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** Fields of /proc/<of>/stat after the command (which may hold spaces or parentheses). */
function statOf(of) {
  const s = readFileSync(`/proc/${of}/stat`, 'utf8');
  const close = s.lastIndexOf(')');
  const f = s.slice(close + 2).split(' ');
  // f[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17, starttime 22.
  return {
    comm: s.slice(s.indexOf('(') + 1, close),
    ppid: Number(f[1]),
    u: Number(f[11]) / TICK,
    s: Number(f[12]) / TICK,
    cu: Number(f[13]) / TICK,
    cs: Number(f[14]) / TICK,
    start: Number(f[19]),
  };
}

if (DIR && isMainThread) {
  const self = statOf('self');
  const file = `${DIR}/${process.pid}.${self.start}.jsonl`;
  const write = (rec) => {
    try {
      appendFileSync(file, `${JSON.stringify(rec)}\n`);
    } catch {
      // the directory is gone (the run was cleaned up): nothing to record into
    }
  };
  const setIntervalReal = setInterval; // before a test's fake timers replace it
  writeFileSync(file, '');
  write({
    t: 'start',
    pid: process.pid,
    ppid: process.ppid,
    start: self.start,
    at: Date.now(),
    argv: process.argv,
    execArgv: process.execArgv,
  });

  /** The test file this process runs now, if it is a vitest worker. */
  const currentFile = () => globalThis.__vitest_worker__?.filepath;
  const files = [];
  const noteFile = () => {
    const f = currentFile();
    if (f && files[files.length - 1] !== f) files.push(f);
  };

  /** Live children by `pid.start`: what was last read of them. */
  const children = new Map();
  let reaped = { u: self.cu, s: self.cs };
  const poll = () => {
    noteFile();
    let me;
    try {
      me = statOf('self');
    } catch {
      return;
    }
    const now = Date.now();
    const seen = new Set();
    let tids = [];
    try {
      tids = readdirSync('/proc/self/task');
    } catch {
      // exiting
    }
    for (const tid of tids) {
      let list = '';
      try {
        list = readFileSync(`/proc/self/task/${tid}/children`, 'utf8');
      } catch {
        continue; // the thread ended
      }
      for (const pid of list.split(' ')) {
        if (!pid) continue;
        let st;
        try {
          st = statOf(pid);
        } catch {
          continue; // ended between the listing and the read: its CPU shows in the next delta
        }
        const key = `${pid}.${st.start}`;
        seen.add(key);
        let c = children.get(key);
        if (!c) {
          let cmd = '';
          try {
            cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
          } catch {
            // gone already
          }
          c = { pid: Number(pid), start: st.start, comm: st.comm, cmd, first: now, file: currentFile() };
          children.set(key, c);
        }
        // exec() changes the command after the first sight (a shell's `exec`, a wrapper)
        if (c.comm !== st.comm) c.comm = st.comm;
        Object.assign(c, { last: now, u: st.u, s: st.s, cu: st.cu, cs: st.cs });
      }
    }
    const gone = [...children.entries()].filter(([k]) => !seen.has(k));
    if (me.cu !== reaped.u || me.cs !== reaped.s || gone.length > 0) {
      for (const [k] of gone) children.delete(k);
      const du = +(me.cu - reaped.u).toFixed(2);
      const ds = +(me.cs - reaped.s).toFixed(2);
      write({ t: 'reap', at: now, du, ds, gone: gone.map(([, c]) => c) });
      reaped = { u: me.cu, s: me.cs };
    }
  };
  setIntervalReal(poll, POLL_MS).unref();

  let ended = false;
  const end = (how) => {
    if (ended) return;
    ended = true;
    poll();
    const r = process.resourceUsage();
    let me = { cu: 0, cs: 0 };
    try {
      me = statOf('self');
    } catch {
      // unreadable while exiting: leave the children CPU at 0 (the reap lines have it)
    }
    write({
      t: 'end',
      how,
      at: Date.now(),
      u: r.userCPUTime / 1e6,
      s: r.systemCPUTime / 1e6,
      cu: me.cu,
      cs: me.cs,
      maxRssKb: r.maxRSS,
      volCtx: r.voluntaryContextSwitches,
      involCtx: r.involuntaryContextSwitches,
      files,
      alive: [...children.values()],
    });
  };
  process.on('exit', (code) => end(`exit ${code}`));
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    const onSignal = () => {
      // With a handler of its own the process decides (exit writes the end); alone on this
      // signal, it would have died of it: write the end, step aside and die so.
      if (process.listenerCount(sig) > 1) return write({ t: 'signal', sig, at: Date.now() });
      end(sig);
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}
