/**
 * Where the test suite's CPU goes, by kind of process and by test file.
 *
 *   node --import tsx bench/cpu-attr.ts run [--out DIR] -- VITEST ARGS…   e.g. -- --project sqlite
 *   node --import tsx bench/cpu-attr.ts report DIR [--files N]
 *
 * `run` starts `vitest run ARGS…` with bench/cpu-probe.mjs loaded into every Node process
 * (NODE_OPTIONS), reads the machine's, the Kafka broker's and PostgreSQL's CPU before and after
 * (they serve the tests but are no child of theirs; other users of the machine count there too),
 * then prints the report. As root on a machine with cgroup v1's cpuacct it also counts, in a
 * cgroup of the run's own, every process the run started, those that left vitest's tree too.
 * Set SHEKARA_KAFKA_EXTERNAL=1 as for any test run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { attribute, readProbeDir, type Entry } from './cpu-attr-report.js';
import { CLK_TCK } from './proc-cpu.js';

const BENCH = path.dirname(fileURLToPath(import.meta.url));

interface Outside {
  at: number;
  /** Busy CPU-s of the whole machine (/proc/stat, all but idle and iowait). */
  machine: { u: number; s: number };
  kafka: number;
  postgres: number;
}

/** Kafka's broker and PostgreSQL (live backends plus the ended ones the postmaster reaped). */
function outside(): Outside {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu as number[];
  let kafka = 0;
  let postgres = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number);
      const own = (f[11]! + f[12]!) / CLK_TCK;
      const reaped = (f[13]! + f[14]!) / CLK_TCK;
      if (comm === 'java' && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('kafka.Kafka')) kafka += own;
      else if (comm === 'postgres' || comm === 'postmaster') postgres += own + (f[1] === 1 ? reaped : 0);
    } catch {
      // ended while read
    }
  }
  return {
    at: Date.now(),
    machine: { u: (user! + nice!) / CLK_TCK, s: (system! + irq! + softirq! + steal!) / CLK_TCK },
    kafka,
    postgres,
  };
}

/**
 * A cpuacct cgroup (v1) of the run's own, when this machine has one we may create: it counts
 * every process the run starts, those that leave vitest's tree too (a child's child whose
 * parent was killed is adopted by init and its CPU never reaches vitest's cutime). The runner
 * joins it before starting vitest, so everything started after is in it.
 */
function joinCgroup(): { read(): { u: number; s: number } | undefined; leave(): void } | undefined {
  const root = '/sys/fs/cgroup/cpuacct';
  const dir = `${root}/cpu-attr-${process.pid}`;
  try {
    mkdirSync(dir);
    writeFileSync(`${dir}/cgroup.procs`, String(process.pid));
  } catch {
    return undefined;
  }
  return {
    read() {
      const stat = Object.fromEntries(
        readFileSync(`${dir}/cpuacct.stat`, 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split(' ')),
      ) as Record<string, string>;
      return { u: Number(stat['user']) / CLK_TCK, s: Number(stat['system']) / CLK_TCK };
    },
    leave() {
      try {
        writeFileSync(`${root}/cgroup.procs`, String(process.pid));
        rmdirSync(dir);
      } catch {
        // a process the run left behind is still in it: the cgroup stays (rmdir it later)
      }
    },
  };
}

const f1 = (x: number) => x.toFixed(1);
const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((100 * part) / whole)}%` : '-');

function table(title: string, rows: [string, Entry[]][], limit: number, extra?: (es: Entry[]) => string): string {
  const sum = (es: Entry[]) => es.reduce((a, e) => ({ u: a.u + e.u, s: a.s + e.s }), { u: 0, s: 0 });
  const sorted = rows
    .map(([k, es]) => ({ k, es, t: sum(es) }))
    .sort((a, b) => b.t.u + b.t.s - (a.t.u + a.t.s))
    .slice(0, limit);
  const lines = [`${title}`, `${'CPU-s'.padStart(8)} ${'user'.padStart(7)} ${'sys'.padStart(7)} sys%  n    what`];
  for (const { k, es, t } of sorted) {
    lines.push(
      `${f1(t.u + t.s).padStart(8)} ${f1(t.u).padStart(7)} ${f1(t.s).padStart(7)} ${pct(t.s, t.u + t.s).padStart(4)} ${String(es.length).padEnd(4)} ${k}${extra ? ` ${extra(es)}` : ''}`,
    );
  }
  return lines.join('\n');
}

function group(entries: Entry[], by: (e: Entry) => string): [string, Entry[]][] {
  const m = new Map<string, Entry[]>();
  for (const e of entries) m.set(by(e), [...(m.get(by(e)) ?? []), e]);
  return [...m.entries()];
}

export function report(dir: string, topFiles = 15): string {
  const { entries, root } = attribute(readProbeDir(dir));
  const out: string[] = [];
  const attributed = entries.reduce((a, e) => a + e.u + e.s, 0);
  if (root?.end) {
    const exact = root.end.u + root.end.s + root.end.cu + root.end.cs;
    out.push(
      `run: ${f1((root.end.at - root.at) / 1000)} s wall, ${f1(exact)} CPU-s in vitest's process tree ` +
        `(user ${f1(root.end.u + root.end.cu)}, sys ${f1(root.end.s + root.end.cs)}); attributed below ${f1(attributed)}`,
    );
  }
  try {
    const m = JSON.parse(readFileSync(path.join(dir, 'outside.json'), 'utf8')) as {
      before: Outside;
      after: Outside;
      cgroup?: { u: number; s: number };
    };
    if (m.cgroup)
      out.push(
        `every process the run started (its cpuacct cgroup, runner included): ${f1(m.cgroup.u + m.cgroup.s)} CPU-s ` +
          `(user ${f1(m.cgroup.u)}, sys ${f1(m.cgroup.s)})`,
      );
    const d = (k: 'kafka' | 'postgres') => f1(m.after[k] - m.before[k]);
    const mu = m.after.machine.u - m.before.machine.u;
    const ms = m.after.machine.s - m.before.machine.s;
    out.push(
      `outside the tree, same interval: Kafka broker ${d('kafka')} CPU-s, PostgreSQL ${d('postgres')} CPU-s; ` +
        `whole machine ${f1(mu + ms)} CPU-s busy (user ${f1(mu)}, sys ${f1(ms)}) over ${f1((m.after.at - m.before.at) / 1000)} s`,
    );
  } catch {
    // a report of a dir written by hand: no outside figures
  }
  const lifetime = (es: Entry[]) => {
    const ms = es.map((e) => e.ms ?? 0).filter((x) => x > 0);
    const rss = Math.max(0, ...es.map((e) => e.maxRssKb ?? 0));
    return ms.length
      ? `(mean life ${f1(ms.reduce((a, b) => a + b, 0) / ms.length / 1000)} s${rss ? `, max RSS ${Math.round(rss / 1024)} MB` : ''})`
      : '';
  };
  const kindClass = (e: Entry) =>
    e.kind.startsWith('vitest') || e.kind.startsWith('gateway')
      ? e.kind
      : e.kind.startsWith('cli: ')
        ? 'cli (all subcommands)'
        : e.kind.startsWith('node: ')
          ? 'other node'
          : `other: ${e.how === 'unseen' ? 'unseen short children' : 'non-node'}`;
  out.push('', table('By class of process', group(entries, kindClass), 50));
  out.push(
    '',
    table(
      'By kind of process',
      group(entries, (e) => e.kind),
      40,
      lifetime,
    ),
  );
  out.push(
    '',
    table(
      `Top ${topFiles} test files (worker + every child it started)`,
      group(entries, (e) => e.file),
      topFiles,
    ),
  );
  const perFile = group(entries, (e) => e.file)
    .map(([file, es]) => {
      const gw = es.filter((e) => e.kind.startsWith('gateway')).length;
      const cli = es.filter((e) => e.kind.startsWith('cli: ')).length;
      return { file, gw, cli };
    })
    .filter((x) => x.gw + x.cli > 0)
    .sort((a, b) => b.gw + b.cli - (a.gw + a.cli))
    .slice(0, 15);
  out.push('', 'Gateway starts / CLI calls per file (top 15 by count)');
  for (const x of perFile) out.push(`${String(x.gw).padStart(4)} ${String(x.cli).padStart(4)}  ${x.file}`);
  const how = group(entries, (e) => e.how).map(([h, es]) => `${h} ${f1(es.reduce((a, e) => a + e.u + e.s, 0))}`);
  out.push('', `how known (CPU-s): ${how.join(', ')}`);
  return out.join('\n');
}

async function run(args: string[]): Promise<void> {
  const sep = args.indexOf('--');
  const own = sep < 0 ? args : args.slice(0, sep);
  const vitestArgs = sep < 0 ? [] : args.slice(sep + 1);
  const outIdx = own.indexOf('--out');
  const dir = path.resolve(
    outIdx >= 0 ? own[outIdx + 1]! : `bench/cpu-attr-${new Date().toISOString().replace(/[:.]/g, '-')}`,
  );
  mkdirSync(dir, { recursive: true });
  const probe = pathToFileURL(path.join(BENCH, 'cpu-probe.mjs')).href;
  const cgroup = joinCgroup();
  const before = outside();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [path.resolve('node_modules/vitest/vitest.mjs'), 'run', ...vitestArgs], {
      stdio: 'inherit',
      env: {
        ...process.env,
        SHEKARA_CPU_PROBE_DIR: dir,
        NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${probe}`.trim(),
      },
    });
    child.on('exit', (c) => resolve(c));
  });
  const all = cgroup?.read();
  cgroup?.leave();
  writeFileSync(path.join(dir, 'outside.json'), JSON.stringify({ before, after: outside(), cgroup: all }));
  const text = report(dir);
  writeFileSync(path.join(dir, 'report.txt'), `${text}\n`);
  console.log(`\nvitest exited ${code}; probe records in ${dir}\n\n${text}`);
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'run') await run(rest);
else if (cmd === 'report' && rest[0]) {
  const n = rest.indexOf('--files');
  console.log(report(rest[0], n >= 0 ? Number(rest[n + 1]) : 15));
} else {
  console.error('usage: cpu-attr.ts run [--out DIR] -- VITEST ARGS… | report DIR [--files N]');
  process.exit(2);
}
