/**
 * Turns one bench run into what a reader sees: JSON under docs/benchmarks/, the generated
 * results section of docs/benchmarks.md (between markers, so the hand-written analysis around
 * it survives a rerun) and docs/benchmarks/chart.png.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LatencyResult, MemoryResult, OverloadResult, ThroughputResult, Target } from './scenarios.js';
import { renderChart } from './chart.js';
import type { Summary } from './summary.js';
import type { GbtRound } from './gbt32960.js';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  mosquitto: string;
  kernel: string;
}
export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  gateway: string;
  machine: Machine;
  plan: unknown;
  throughput: ThroughputResult[];
  latency: LatencyResult[];
  memory: MemoryResult[];
  overload: OverloadResult | undefined;
  /** The same overload run with the gateway's heap capped as the Helm chart caps it (absent in older results). */
  overloadCapped?: OverloadResult;
  /** GB/T 32960 rounds, each beside the MQTT path in the same run (absent in older results). */
  gbt32960?: GbtRound[];
  /** `--baseline DIR`: the previous build (its commit) and its rounds, each right after this build's. */
  baseline?: string;
  throughputBaseline?: ThroughputResult[];
  latencyBaseline?: LatencyResult[];
  errors: string[];
}

export function describeMachine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const sh = (cmd: string, a: string[]) => {
    try {
      return execFileSync(cmd, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? '').trim();
    }
  };
  return {
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    mosquitto: /mosquitto version (\S+)/.exec(sh('mosquitto', ['-h']))?.[1] ?? 'unknown',
    kernel: sh('uname', ['-r']),
  };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const fmt = (n: number | null | undefined, d = 0) =>
  n === null || n === undefined || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
/** A change in KB as signed MB: +12 / −3. */
const signedMb = (kb: number) => `${kb >= 0 ? '+' : '−'}${fmt(Math.abs(kb) / 1024)}`;
/** null: the percentile falls on a message not delivered by the end of the wait. */
const ms = (n: number | null) => (n === null ? 'not delivered in time' : `${fmt(n)} ms`);
/** Worst of the rounds for latency (null, i.e. not delivered within the wait, is worst). */
const worst = (xs: (number | null)[]) => (xs.some((x) => x === null) ? null : Math.max(...(xs as number[])));

export function summarise(r: BenchResults): Summary {
  const runs = (t: Target, protocol: 4 | 5) =>
    r.throughput.filter((x) => x.target === t && (x.protocol ?? 4) === protocol);
  const tp = (t: Target, protocol: 4 | 5 = 4) => Math.round(mean(runs(t, protocol).map((x) => x.msgsPerSec)));
  const cpu = (t: Target) => Math.round(mean(runs(t, 4).map((x) => x.brokerCpuMicrosPerMsg)));
  const lat = (t: Target) => {
    const runs = r.latency.filter((x) => x.target === t);
    return {
      p50: worst(runs.map((x) => x.p50)),
      p99: worst(runs.map((x) => x.p99)),
      p999: worst(runs.map((x) => x.p999)),
    };
  };
  const ack = (t: Target) => {
    const runs = r.latency.filter((x) => x.target === t).map((x) => x.ack);
    return {
      p50: worst(runs.map((x) => x.p50)),
      p99: worst(runs.map((x) => x.p99)),
      p999: worst(runs.map((x) => x.p999)),
    };
  };
  return {
    throughput: { shekara: tp('shekara'), mosquitto: tp('mosquitto') },
    ratio: Math.round((tp('shekara') / tp('mosquitto')) * 100) / 100,
    throughput5: { shekara: tp('shekara', 5), mosquitto: tp('mosquitto', 5) },
    ratio5: Math.round((tp('shekara', 5) / tp('mosquitto', 5)) * 100) / 100,
    cpuPerMsg: { shekara: cpu('shekara'), mosquitto: cpu('mosquitto') },
    latency: { shekara: lat('shekara'), mosquitto: lat('mosquitto') },
    ack: { shekara: ack('shekara'), mosquitto: ack('mosquitto') },
  };
}

export function markdown(r: BenchResults, s: Summary): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `Measured **${r.startedAt.replace('T', ' ').slice(0, 16)} UTC** (${r.quick ? 'quick smoke run, not representative' : 'full run'}, gateway build \`${r.gateway}\`) on ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}, Mosquitto ${m.mosquitto}. ` +
      "Each run records the machine's load average (the bench's own processes count in it). " +
      'Load generator, broker and receiver all share the same 2 cores. Raw data: [latest.json](benchmarks/latest.json).',
  );
  out.push('', '| scenario | Shekara | Mosquitto (pass-through, 1 subscriber) | aim |', '| --- | ---: | ---: | --- |');
  out.push(
    `| QoS 1 ingest, ${fmt(r.throughput[0]?.cars)} cars, max rate (mean of rounds) | ${fmt(s.throughput.shekara)} msgs/s | ${fmt(s.throughput.mosquitto)} msgs/s | ratio ${fmt(s.ratio, 2)} (aim ≥ 1.0) |`,
  );
  if (r.throughput.some((x) => x.protocol === 5))
    out.push(
      `| the same, MQTT 5 cars (one round) | ${fmt(s.throughput5.shekara)} msgs/s | ${fmt(s.throughput5.mosquitto)} msgs/s | ratio ${fmt(s.ratio5, 2)} |`,
    );
  if (r.throughput.length > 0)
    out.push(
      `| broker CPU per message, QoS 1 ingest (mean of rounds) | ${fmt(s.cpuPerMsg.shekara)} µs | ${fmt(s.cpuPerMsg.mosquitto)} µs | ≤ 2 × Mosquitto's |`,
    );
  // A run without the latency scenario (`--only throughput,…`) has no latency rows: the worst of
  // no rounds is not a figure.
  if (r.latency.length > 0) {
    for (const [k, label] of [
      ['p50', 'p50'],
      ['p99', 'p99'],
      ['p999', 'p99.9'],
    ] as const) {
      out.push(
        `| end-to-end latency ${label}, ${fmt(r.latency[0]?.rate)} msgs/s (worst round) | ${ms(s.latency.shekara[k])} | ${ms(s.latency.mosquitto[k])} | ${k === 'p99' ? 'p99 ≤ 50 ms' : ''} |`,
      );
    }
    out.push(
      `| publish → PUBACK p50 / p99 / p99.9, same runs (worst round) | ${['p50', 'p99', 'p999'].map((k) => ms(s.ack.shekara[k as 'p50'])).join(' / ')} | ${['p50', 'p99', 'p999'].map((k) => ms(s.ack.mosquitto[k as 'p50'])).join(' / ')} | |`,
    );
  }
  const mem = (t: Target) => r.memory.find((x) => x.target === t);
  out.push(
    `| RSS per idle connection at ${fmt(mem('shekara')?.connections ?? mem('mosquitto')?.connections)} connections | ${fmt(mem('shekara')?.kbPerConnection, 1)} KB | ${fmt(mem('mosquitto')?.kbPerConnection, 1)} KB | ≤ 10 KB |`,
  );
  const o = r.overload;
  const flatWords = (x: OverloadResult) =>
    x.rssFlat
      ? x.rssFlat.bounded
        ? `, bounded (RSS ${signedMb(x.rssFlat.growthKb)} MB over the last ${x.rssFlat.lastS} s)`
        : `, **not shown bounded** (RSS ${signedMb(x.rssFlat.growthKb)} MB over the last ${x.rssFlat.lastS} s)`
      : '';
  const capWords = (x: OverloadResult) =>
    x.heapCapMb
      ? `, gateway heap capped at ${fmt(x.heapCapMb)} MB (\`--max-old-space-size\`, as the Helm chart sets it)`
      : '';
  for (const x of [o, r.overloadCapped])
    if (x)
      out.push(
        `| overload ${fmt(x.offeredRate)} msgs/s offered for ${x.seconds} s${capWords(x)} | ${x.stayedUp ? 'stayed up' : '**died**'}, peak RSS ${fmt(x.rssKb.peak / 1024)} MB${flatWords(x)}, ${fmt(x.ackedButMissing)} acknowledged-but-lost | not run | memory bounded (RSS flat over the drain), zero acknowledged loss |`,
      );
  const gbt = r.gbt32960 ?? [];
  if (gbt.length > 0) {
    const m = (xs: number[]) => fmt(mean(xs));
    out.push(
      `| GB/T 32960 ingest, ${fmt(gbt[0]!.gbt.cars)} terminals, max rate: frames stored (answered after commit) per s, and per gateway core (mean of ${gbt.length} rounds) | ${m(gbt.map((x) => x.gbt.framesPerSec))} frames/s, ${m(gbt.map((x) => x.gbt.framesPerCoreSec))} per core | not applicable | beside MQTT in the same rounds: ${m(gbt.map((x) => x.mqtt.msgsPerSec))} msgs/s, ${m(gbt.map((x) => x.mqtt.msgsPerCoreSec))} per core |`,
    );
  }
  out.push(...perThreadTable(r));
  out.push(
    '',
    '![Throughput and latency, Shekara vs Mosquitto](benchmarks/chart.png)',
    '',
    '<details><summary>Every run</summary>',
    '',
  );
  out.push(
    '| run | target | result | broker CPU | generator CPU | receiver CPU | notes |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
  );
  const withPrevious = <T extends { target: Target }>(mine: T[], theirs?: T[]) => besidePrevious(r, mine, theirs);
  for (const [x, target] of withPrevious(r.throughput, r.throughputBaseline)) {
    out.push(
      `| throughput${x.protocol === 5 ? ' (MQTT 5)' : ''} | ${target} | ${fmt(x.msgsPerSec)} msgs/s | ${x.cpuPercent.broker}% | ${x.cpuPercent.generator}% | ${x.cpuPercent.receiver}% | ${fmt(x.brokerCpuMicrosPerMsg)} µs broker CPU/msg; peak RSS ${fmt(x.peakRssKb / 1024)} MB; consumer got ${fmt(x.receiverGot)} of ${fmt(x.publishers.acked)} acked${x.storeCounts ? `; store: ${fmt(x.storeCounts.records)} records, ${fmt(x.storeCounts.outboxPending)} outbox pending at stop` : ''}; load avg ${x.loadAvg.join(' → ')} |`,
    );
  }
  for (const [x, target] of withPrevious(r.latency, r.latencyBaseline)) {
    out.push(
      `| latency | ${target} | p50 ${ms(x.p50)}, p99 ${ms(x.p99)}, p99.9 ${ms(x.p999)} | ${x.cpuPercent.broker}% | ${x.cpuPercent.generator}% | ${x.cpuPercent.receiver}% | sent ${fmt(x.achievedRate)}/s, consumer got ${fmt(x.consumerPerSec)}/s; ${fmt(x.deliveredInWindow)} of ${fmt(x.sentInWindow)} measured messages delivered (waited ${fmt(x.drainWaitMs / 1000)} s more after the load stopped); max ${ms(x.max)}; PUBACK p50/p99 ${ms(x.ack.p50)}/${ms(x.ack.p99)}${x.storeCounts ? `; outbox pending at stop ${fmt(x.storeCounts.outboxPending)}` : ''}; load avg ${x.loadAvg.join(' → ')} |`,
    );
  }
  for (const x of r.memory) {
    out.push(
      `| memory | ${x.target} | ${fmt(x.kbPerConnection, 1)} KB/connection | | | | RSS ${fmt(x.baselineRssKb / 1024, 1)} → ${fmt(x.loadedRssKb / 1024, 1)} MB with ${fmt(x.connections)} connections (connected in ${fmt(x.connectSeconds, 1)} s, ${x.connectErrors} failed) |`,
    );
  }
  for (const x of gbt) {
    out.push(
      `| GB/T 32960 | shekara | ${fmt(x.gbt.framesPerSec)} frames/s (${fmt(x.gbt.framesPerCoreSec)} per core) | ${x.gbt.cpuPercent.broker}% | ${x.gbt.cpuPercent.generator}% | ${x.gbt.cpuPercent.receiver}% | same round, MQTT 3.1.1: ${fmt(x.mqtt.msgsPerSec)} msgs/s (${fmt(x.mqtt.msgsPerCoreSec)} per core, broker ${x.mqtt.cpuPercent.broker}%); OEM got ${fmt(x.gbt.receiverGot)} of ${fmt(x.gbt.publishers.acked)} answered${x.gbt.storeCounts ? `; store: ${fmt(x.gbt.storeCounts.records)} records` : ''}; load avg ${x.gbt.loadAvg.join(' → ')} |`,
    );
  }
  for (const x of [o, r.overloadCapped])
    if (x)
      out.push(
        `| overload${x.heapCapMb ? ` (heap cap ${fmt(x.heapCapMb)} MB)` : ''} | shekara | ${fmt(x.acked)} acked, ${fmt(x.stored)} stored | | | | sent ${fmt(x.sent)}, not sent (car's 100-message window full) ${fmt(x.throttled)}, errors ${fmt(x.errors)}, disconnects ${fmt(x.disconnects)}; RSS first/peak/last ${fmt(x.rssKb.first / 1024)}/${fmt(x.rssKb.peak / 1024)}/${fmt(x.rssKb.last / 1024)} MB; /healthz ${x.healthz ?? 'no answer'} |`,
      );
  out.push('', '</details>');
  if (r.errors.length) out.push('', '**Failed runs:**', '', ...r.errors.map((e) => `- ${e}`));
  return out.join('\n');
}

/** Each round, with the previous build's round right after this build's (run.ts runs them in that order). */
function besidePrevious<T extends { target: Target }>(r: BenchResults, mine: T[], theirs: T[] = []): [T, string][] {
  const previous = `previous build${r.baseline ? ` \`${r.baseline}\`` : ''}`;
  const rows: [T, string][] = [];
  let i = 0;
  for (const x of mine) {
    rows.push([x, x.target]);
    if (x.target === 'shekara' && theirs[i]) rows.push([theirs[i++]!, previous]);
  }
  return rows;
}

/** The gateway's threads as the per-thread table names them (bench/proc-cpu.ts `threadRoles`). */
const THREADS: [role: string, heading: string][] = [
  ['main', 'main (event loop)'],
  ['shk-writer', 'writer thread'],
  ['shk-egress', 'egress thread'],
  ['shk-selfcheck', 'self-check'],
  ['helpers', 'V8/libuv helpers'],
];

/**
 * CPU µs per message in each run's measured window: the broker by thread, then the load
 * generator and the receiver, which share the same cores. Only runs that recorded it (results
 * from before it was measured have no `cpuPerMsg`).
 */
function perThreadTable(r: BenchResults): string[] {
  const rows = [
    ...besidePrevious(r, r.throughput, r.throughputBaseline).map(([x, t]) => ({
      x,
      t,
      run: `throughput${x.protocol === 5 ? ' (MQTT 5)' : ''}, ${fmt(x.msgsPerSec)} msgs/s`,
    })),
    ...besidePrevious(r, r.latency, r.latencyBaseline).map(([x, t]) => ({
      x,
      t,
      run: `latency, ${fmt(x.achievedRate)} msgs/s sent`,
    })),
  ].filter((row) => row.x.cpuPerMsg);
  if (rows.length === 0) return [];
  const out = [
    '',
    "CPU per message by thread, µs (CPU time from /proc over the measured window ÷ messages acknowledged in it, at max rate and at a fixed rate alike: what the broker got through, not what was offered; the machine's load average beside each run):",
    '',
    `| run | target | ${THREADS.map(([, h]) => h).join(' | ')} | broker total | load generator | receiver | load avg |`,
    `| --- | --- | ${THREADS.map(() => '---:').join(' | ')} | ---: | ---: | ---: | --- |`,
  ];
  for (const { x, t, run } of rows) {
    const c = x.cpuPerMsg!;
    out.push(
      `| ${run} | ${t} | ${THREADS.map(([role]) => fmt(c.threads[role])).join(' | ')} | ${fmt(c.groups.broker)} | ${fmt(c.groups.generator)} | ${fmt(c.groups.receiver)} | ${x.loadAvg.join(' → ')} |`,
    );
  }
  return out;
}

const START = '<!-- bench:results:start (generated by npm run bench; edits here are overwritten) -->';
const END = '<!-- bench:results:end -->';

export async function writeReport(r: BenchResults, docsDir: string): Promise<string[]> {
  const dir = path.join(docsDir, 'benchmarks');
  mkdirSync(dir, { recursive: true });
  const s = summarise(r);
  const stamp = r.startedAt.replace(/[:.]/g, '-').slice(0, 19);
  const json = JSON.stringify({ ...r, summary: s }, null, 2);
  const files = [path.join(dir, `results-${stamp}.json`)];
  writeFileSync(files[0]!, json);
  writeFileSync(path.join(dir, 'latest.json'), json);
  const mdFile = path.join(docsDir, 'benchmarks.md');
  const section = `${START}\n${markdown(r, s)}\n${END}`;
  const md = existsSync(mdFile) ? readFileSync(mdFile, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const a = md.indexOf(START);
  const b = md.indexOf(END);
  writeFileSync(mdFile, a >= 0 && b > a ? md.slice(0, a) + section + md.slice(b + END.length) : `${md}\n${section}\n`);
  const png = path.join(dir, 'chart.png');
  writeFileSync(png, renderChart(s, r.startedAt, r.latency[0]?.rate ?? 0));
  return [...files, path.join(dir, 'latest.json'), mdFile, png];
}
