import { accessSync, constants, statfsSync } from 'node:fs';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { UNIT_FILES } from './vitest.unit.config.js';
import { BUILT, builtSources } from './test/setup/built-sources.js';
import { LongFirstSequencer } from './test/setup/long-first.js';
import { SHARED_FORK_FILES } from './test/setup/shared-fork-files.js';

/*
 * No file needs the machine to itself any more; there is no serial phase.
 * kafka-restart stops and restarts a broker of its own (own ports and data dir,
 * test/helpers/kafka-broker.ts), never the shared one the other files use.
 * mqtt-connect-flood (10,000 sockets, the gateway's memory per socket) runs beside other files:
 * its bounds are on the RSS of a gateway process of its own, which no neighbour shares, and its
 * sockets and open-file limit are its own process's. Its connect()s take even local ports (Linux
 * gives connect() the even ones and bind(0), hence freePort(), the odd ones: 3,000 of 3,000 and
 * 300 of 300 here), so a neighbour's freePort() is not taken from under it. Beside five
 * gateway-spawning files at load average 30-34 its two-wave version stayed at +18 of 80 MB and
 * +67 of 120 MB; the checks added since (kept and given back) read its own gateway after a
 * forced full collection.
 * The process-kill tests (scale-out, external-crash, shutdown, the egress and GB/T 32960 crash
 * tests, kill-after-2xx, the integrator) run beside other files: each has its own temp dir,
 * store or schema, topics and ports; their waits for a backlog are bounded by a stall, not by
 * the total (whileProgressing), and beside two busy CPU loops and another heavy file they passed
 * in every run. scale-out, whose fixed 30 s gateway start ran out in 3 of 3 such runs (load
 * average 23-35), bounds its starts by a stall too (spawnGateway's stallMs: no CPU time and no
 * output) and passed 4 of 4 beside two busy loops and external-crash (load 9-21)
 * (test/e2e/scale-out.test.ts says which bounds and why).
 */

/**
 * Where the tests' temp dirs go (TMPDIR, for the test processes and every child they spawn): a
 * RAM disk when the machine has one with room. Most files open SQLite stores in temp dirs, and
 * each fsync there waits on the disk: a fresh store and its first commit make 50 of them, 120 ms
 * of waiting on this machine's disk at load 13, ~1 ms in all on /dev/shm (strace -T). No test
 * is about power loss: the crash tests kill processes, and a RAM disk keeps what a killed
 * process wrote as a disk does. A TMPDIR set by the caller wins; no /dev/shm, or less than
 * 4 GiB free on it (a container's is often 64 MB): the system's temp dir, as before.
 */
const TEST_TMPDIR = ((): { TMPDIR?: string } => {
  const shm = '/dev/shm';
  if (process.env['TMPDIR']) return {};
  try {
    accessSync(shm, constants.W_OK);
    const fs = statfsSync(shm);
    return fs.bavail * fs.bsize >= 4 * 2 ** 30 ? { TMPDIR: shm } : {};
  } catch {
    return {};
  }
})();

/** The suites that run a second time with the gateway on PostgreSQL (test/helpers/gateway.ts). */
const ON_POSTGRES = [
  'test/api/**/*.test.ts',
  'test/e2e/border-crossing.test.ts',
  'test/egress/delivery.test.ts',
  'test/egress/consent.test.ts',
];

/**
 * Two forked files at a time, and beside them, while its files last, the `sqlite-shared` thread.
 * Most of a file's time is waiting (on a gateway, a child process, PostgreSQL, Kafka), so two
 * overlap well even on 2 cores. Any two files may run side by side:
 * each listens on port 0 or a freePort(), works in its own temp dir and PostgreSQL schema, and
 * uses its own Kafka topic prefix (uniquePrefix()). `npx vitest run --project sqlite FILE` runs
 * a file on the embedded store only.
 */
const projects: TestProjectInlineConfiguration[] = [
  // First (groupOrder -1), before any other file: the single-module files of npm run test:unit,
  // in-memory and CPU-bound, in two worker threads that keep their imported modules from file to
  // file (isolate: false). A fresh process per file re-imports the same modules each time, about
  // a CPU-second a file; these files share no state that needs a fresh one (the list's guard and
  // comment say what may join it).
  {
    extends: true,
    test: { name: 'unit', include: UNIT_FILES, pool: 'threads', sequence: { groupOrder: -1 } },
  },
  {
    extends: true,
    test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: [...UNIT_FILES, ...SHARED_FORK_FILES] },
  },
  // Gateway and store files that may share one worker that keeps its modules (isolate: false):
  // test/setup/shared-fork-files.ts says which may join, its guard checks them. One worker
  // THREAD (singleThread) running them one after another, BESIDE the forked `sqlite` and
  // `postgres` files: vitest 3.2 runs the files of one group pool by pool, all pools at once, and
  // in one pool the single-worker files only after the others (as a forks project here they
  // were ~40 s on one core at the end of the run while the other idled). A thread keeps modules
  // as a fork does (the threads pool is isolate: false below) and the gateway, stores and
  // sockets are the same code; what a thread does not allow (process.chdir, signal handlers,
  // child processes) these files must not do anyway.
  {
    extends: true,
    test: {
      name: 'sqlite-shared',
      include: SHARED_FORK_FILES,
      setupFiles: ['test/setup/shared-fork-guard.ts'],
      pool: 'threads',
      poolOptions: { threads: { singleThread: true, isolate: false } },
    },
  },
  {
    extends: true,
    // A `unit` file has no store to switch (test/api/ holds two): it runs once, in `unit`.
    test: {
      name: 'postgres',
      include: ON_POSTGRES,
      exclude: UNIT_FILES,
      env: { ...TEST_TMPDIR, SHEKARA_TEST_STORE: 'postgres' },
    },
  },
];

export default defineConfig({
  plugins: [builtSources()],
  test: {
    server: { deps: { external: [BUILT] } },
    // A real Kafka broker for the egress tests (deploy/kafka.sh), checked or started before any
    // project's files. Every project inherits this list (vitest concatenates it into theirs), so
    // the setup is called for the root and each project with files: it works on the first call
    // only (test/setup/once-per-run.ts).
    globalSetup: ['test/setup/kafka.ts'],
    env: TEST_TMPDIR,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    minWorkers: 1,
    // `unit` and `sqlite-shared` run in threads that keep their modules; every other project
    // forks a fresh process a file.
    poolOptions: { threads: { isolate: false } },
    // Files that wait long for their size start first (test/setup/long-first.ts says why).
    sequence: { sequencer: LongFirstSequencer },
    projects,
  },
});
