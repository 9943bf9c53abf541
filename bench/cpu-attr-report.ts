/**
 * Reads what bench/cpu-probe.mjs wrote for each process of a test run and says where the CPU
 * went: by kind of process, by test file (a child's CPU counts for the file whose vitest worker
 * started it), how many gateways and CLI calls, and each one's system-time share.
 *
 * Every CPU-second is counted once. A probed process that ended normally has its own CPU from
 * its `end`. Its parent's cumulative children CPU (exact, from the kernel) minus the totals of
 * those children leaves what the others took: non-Node children (java, python3, a shell…),
 * SIGKILLed Node children, and children too short to be seen by a poll; that rest is shared
 * among the children that went away in the same poll interval, by what each was last seen at.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface Cpu {
  u: number;
  s: number;
}
interface Seen extends Cpu {
  pid: number;
  start: number;
  comm: string;
  cmd: string;
  first: number;
  last: number;
  file?: string;
  cu: number;
  cs: number;
}
interface Proc {
  key: string;
  pid: number;
  ppid: number;
  at: number;
  argv: string[];
  execArgv: string[];
  end?: Cpu & { at: number; how: string; cu: number; cs: number; maxRssKb: number; files: string[]; alive: Seen[] };
  reaps: { at: number; du: number; ds: number; gone: Seen[] }[];
}

/** One row: a process's own CPU (a Node process) or a child's whole subtree (anything else). */
export interface Entry extends Cpu {
  kind: string;
  file: string;
  /** How the CPU is known: own resourceUsage, a share of the parent's children delta, or a last poll. */
  how: 'own' | 'delta' | 'poll' | 'unseen';
  ms?: number;
  maxRssKb?: number;
  cmd: string;
}

export function readProbeDir(dir: string): Proc[] {
  const procs: Proc[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    const lines = readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean);
    let p: Proc | undefined;
    for (const line of lines) {
      const rec = JSON.parse(line);
      if (rec.t === 'start') {
        p = { key: `${rec.pid}.${rec.start}`, ...rec, reaps: [] };
        procs.push(p!);
      } else if (p && rec.t === 'reap') p.reaps.push(rec);
      else if (p && rec.t === 'end') p.end = rec;
    }
  }
  return procs;
}

const rel = (f: string) => f.replace(/^.*?\/test\//, 'test/');

/** What kind of process a command line is. */
export function kindOf(argv: string[], comm?: string): string {
  const a = argv.join(' ');
  if (/tinypool\/dist\/entry\/process\.js|vitest\/dist\/workers\/forks/.test(a)) return 'vitest worker';
  if (/vitest(\.mjs)?( |$)/.test(a) && !/workers/.test(a)) return 'vitest main (+unit threads)';
  const cli = /(bin\/shekara(\.js)?|cli-process\.ts) (\S+)/.exec(a);
  if (cli) return cli[3] === 'start' ? 'gateway (shekara start)' : `cli: shekara ${cli[3]}`;
  if (/(^|\/)node( |$)/.test(argv[0] ?? '') || comm === 'node' || comm === 'MainThread') {
    const script = argv.slice(1).find((x) => !x.startsWith('-'));
    // a test's temp dir has a random suffix: one kind for all its scripts of one name
    const named = script?.replace(/^(\/dev\/shm|\/tmp)\/([a-z-]+?)-?[A-Za-z0-9]{6}\//, '$TMP/$2-*/');
    return `node: ${named ? rel(path.relative(process.cwd(), named)) : argv.slice(1, 3).join(' ')}`;
  }
  return comm ?? argv[0] ?? '?';
}

export function attribute(procs: Proc[]): { entries: Entry[]; root?: Proc } {
  const byKey = new Map(procs.map((p) => [p.key, p]));
  const byPid = new Map<number, Proc[]>();
  for (const p of procs) byPid.set(p.pid, [...(byPid.get(p.pid) ?? []), p]);
  const parentOf = (p: Proc) =>
    (byPid.get(p.ppid) ?? []).find((q) => q.at <= p.at + 50 && (q.end === undefined || q.end.at >= p.at));
  const childrenOf = new Map<string, Proc[]>();
  for (const p of procs) {
    const q = parentOf(p);
    if (q) childrenOf.set(q.key, [...(childrenOf.get(q.key) ?? []), p]);
  }
  const root = procs.find((p) => !parentOf(p) && /vitest/.test(p.argv.join(' ')));

  /** The test file a process works for: the nearest vitest worker's, or the one a poll saw. */
  const fileOf = (p: Proc | undefined, seenFile?: string): string => {
    for (let q = p; q; q = parentOf(q)) {
      if (kindOf(q.argv) === 'vitest worker') {
        const files = q.end?.files ?? [];
        return rel(files.length === 1 ? files[0]! : (seenFile ?? files[files.length - 1] ?? '(worker, no file)'));
      }
      seenFile = undefined;
    }
    return '(outside any test file)';
  };

  const entries: Entry[] = [];
  for (const p of procs) {
    const kind = kindOf(p.argv);
    if (p.end) {
      entries.push({
        kind,
        file: fileOf(p),
        how: 'own',
        u: p.end.u,
        s: p.end.s,
        ms: p.end.at - p.at,
        maxRssKb: p.end.maxRssKb,
        cmd: p.argv.slice(1).join(' '),
      });
    }
    // The children's CPU the kernel added to p, less what the probed ones said of themselves.
    const kids = childrenOf.get(p.key) ?? [];
    const pending = new Set(kids.filter((k) => k.end));
    const total = (k: Proc) => ({ u: k.end!.u + k.end!.cu, s: k.end!.s + k.end!.cs });
    let carry = { u: 0, s: 0 };
    const events = [...p.reaps];
    if (p.end) {
      const last = p.end.cu + p.end.cs;
      const sum = p.reaps.reduce((a, r) => a + r.du + r.ds, 0);
      if (Math.abs(last - sum) > 0.005) events.push({ at: p.end.at, du: 0, ds: 0, gone: [] });
    }
    for (const ev of events) {
      let du = ev.du;
      let ds = ev.ds;
      const goneKeys = new Set(ev.gone.map((g) => `${g.pid}.${g.start}`));
      for (const k of [...pending]) {
        if (goneKeys.has(k.key) || k.end!.at <= ev.at) {
          const t = total(k);
          du -= t.u;
          ds -= t.s;
          pending.delete(k);
        }
      }
      du += carry.u;
      ds += carry.s;
      const unknown = ev.gone.filter((g) => !byKey.get(`${g.pid}.${g.start}`)?.end);
      if (unknown.length > 0 && du + ds > 0) {
        const w = unknown.map((g) => g.u + g.s + g.cu + g.cs + 0.01);
        const sumW = w.reduce((a, b) => a + b, 0);
        unknown.forEach((g, i) => {
          const probed = byKey.get(`${g.pid}.${g.start}`);
          entries.push({
            kind: probed ? `${kindOf(probed.argv)} (killed)` : kindOf(g.cmd.split(' '), g.comm),
            file: probed ? fileOf(probed, g.file) : fileOf(p, g.file),
            how: 'delta',
            u: Math.max(0, (du * w[i]!) / sumW),
            s: Math.max(0, (ds * w[i]!) / sumW),
            ms: g.last - g.first,
            cmd: g.cmd,
          });
        });
        carry = { u: 0, s: 0 };
      } else carry = { u: du, s: ds };
    }
    if (carry.u + carry.s > 0.005) {
      entries.push({ kind: `unseen short children of ${kind}`, file: fileOf(p), how: 'unseen', ...carry, cmd: '' });
    }
    // Non-Node children alive when p ended: their CPU up to the last poll.
    for (const g of p.end?.alive ?? []) {
      if (byKey.has(`${g.pid}.${g.start}`)) continue;
      entries.push({
        kind: kindOf(g.cmd.split(' '), g.comm),
        file: fileOf(p, g.file),
        how: 'poll',
        u: g.u + g.cu,
        s: g.s + g.cs,
        cmd: g.cmd,
      });
    }
  }
  return { entries, root };
}
