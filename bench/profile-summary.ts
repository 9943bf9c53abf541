/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, see `npm run bench -- --profile`):
 * self time by function and by package, so "what limits throughput" is answered with numbers.
 *   node --import tsx bench/profile-summary.ts FILE.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-summary.ts FILE.cpuprofile [top]\n');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

// Where the time went: a package under node_modules, the gateway's own dist/, node internals, or V8 (GC, idle).
const area = (url: string, fn: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/dist/')) return `shekara ${url.slice(url.indexOf('/dist/') + 6)}`;
  if (url.startsWith('node:')) return url;
  return `(${fn || 'program'})`;
};
const sum = (key: (n: Node) => string) => {
  const m = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const k = key(byId.get(id)!);
    m.set(k, (m.get(k) ?? 0) + us);
  }
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 20));
};
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
process.stdout.write(`profile ${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nby area:\n`);
for (const [k, us] of sum((n) => area(n.callFrame.url, n.callFrame.functionName)))
  process.stdout.write(`  ${pct(us)}  ${k}\n`);
process.stdout.write('\nby function (self time):\n');
for (const [k, us] of sum(
  (n) =>
    `${n.callFrame.functionName || '(anonymous)'}  ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${n.callFrame.lineNumber + 1}`,
)) {
  process.stdout.write(`  ${pct(us)}  ${k}\n`);
}
