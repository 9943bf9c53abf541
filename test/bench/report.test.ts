/**
 * bench/report.ts: with `--baseline`, the previous build's rounds appear in the generated table, each
 * right under the round of this build it was run beside — the side-by-side a reader compares.
 */
import { describe, expect, it } from 'vitest';
import { markdown, summarise, type BenchResults } from '../../bench/report.js';
import type { LatencyResult, OverloadResult, Target, ThroughputResult } from '../../bench/scenarios.js';
import type { PublisherStats } from '../../bench/publisher.js';

const publishers: PublisherStats = {
  connected: 1000,
  connectErrors: 0,
  sent: 1,
  acked: 1,
  errors: 0,
  sentInWindow: 1,
  ackedInWindow: 1,
  throttled: 0,
  disconnects: 0,
};
const cpu = { broker: 100, generator: 20, receiver: 5 };

const round = (target: Target, msgsPerSec: number): ThroughputResult => ({
  target,
  msgsPerSec,
  loadAvg: [1, 1],
  cars: 1000,
  window: 10,
  measureSeconds: 10,
  cpuPercent: cpu,
  brokerCpuMicrosPerMsg: 400,
  peakRssKb: 1024,
  publishers,
  receiverGot: 1,
});
const lat = (target: Target, deliveredInWindow: number): LatencyResult => ({
  target,
  rate: 5000,
  achievedRate: 5000,
  sentInWindow: 100_000,
  deliveredInWindow,
  p50: null,
  p99: null,
  p999: null,
  max: null,
  drainWaitMs: 0,
  ack: { p50: 1, p99: 2, p999: 3 },
  loadAvg: [1, 1],
  consumerPerSec: 1,
  cpuPercent: cpu,
  publishers,
});

const results = (extra: Partial<BenchResults>): BenchResults => ({
  startedAt: '2026-12-04T14:31:19.000Z',
  finishedAt: '2026-12-04T14:39:43.000Z',
  quick: false,
  gateway: 'new1234',
  machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 24, node: 'v20', mosquitto: '2.0.11', kernel: 'linux' },
  plan: {},
  throughput: [round('shekara', 2364), round('mosquitto', 19349), round('shekara', 2731)],
  latency: [lat('mosquitto', 100_001), lat('shekara', 29_118)],
  memory: [],
  overload: undefined,
  errors: [],
  ...extra,
});

const rowsOf = (md: string, kind: string) =>
  md
    .split('\n')
    .filter((l) => l.startsWith(`| ${kind} |`))
    .map((l) => `${l.split(' | ')[1]} ${l.split(' | ')[2]}`);

describe('bench report', () => {
  it("puts each of the previous build's rounds right under this build's round it ran beside", () => {
    const r = results({
      baseline: 'b253faf',
      throughputBaseline: [round('shekara', 2329), round('shekara', 2492)],
      latencyBaseline: [lat('shekara', 28_985)],
    });
    const md = markdown(r, summarise(r));
    expect(rowsOf(md, 'throughput')).toEqual([
      'shekara 2,364 msgs/s',
      'previous build `b253faf` 2,329 msgs/s',
      'mosquitto 19,349 msgs/s',
      'shekara 2,731 msgs/s',
      'previous build `b253faf` 2,492 msgs/s',
    ]);
    expect(rowsOf(md, 'latency').map((l) => l.split(' p50')[0])).toEqual([
      'mosquitto',
      'shekara',
      'previous build `b253faf`',
    ]);
  });

  it('has no latency rows when the run measured no latency (`--only throughput`)', () => {
    const r = results({ latency: [] });
    const md = markdown(r, summarise(r));
    expect(md).toContain('| QoS 1 ingest, 1,000 cars, max rate (mean of rounds) |');
    expect(md).not.toContain('end-to-end latency');
    expect(md).not.toContain('publish → PUBACK');
    expect(md).not.toContain('∞');
  });

  it('lists CPU per message by gateway thread, load generator and receiver for the runs that recorded it', () => {
    const perMsg = {
      threads: { main: 90, 'shk-writer': 60, 'shk-egress': 25, 'shk-selfcheck': 2, helpers: 8 },
      groups: { broker: 185, generator: 30, receiver: 6 },
    };
    const r = results({
      throughput: [{ ...round('shekara', 7800), cpuPerMsg: perMsg }, round('mosquitto', 25000)],
      baseline: 'b253faf',
      throughputBaseline: [{ ...round('shekara', 7300), cpuPerMsg: { ...perMsg, threads: { main: 99 } } }],
    });
    const md = markdown(r, summarise(r));
    expect(md).toContain(
      '| run | target | main (event loop) | writer thread | egress thread | self-check | V8/libuv helpers | broker total | load generator | receiver | load avg |',
    );
    expect(md).toContain('| throughput, 7,800 msgs/s | shekara | 90 | 60 | 25 | 2 | 8 | 185 | 30 | 6 | 1 → 1 |');
    expect(md).toContain('| throughput, 7,300 msgs/s | previous build `b253faf` | 99 | — | — | — | — | 185 | 30 | 6 |');
    expect(md).not.toContain('| throughput, 25,000 msgs/s |'); // recorded nothing: no row
  });

  it('shows the overload run with and without the heap cap, each with its own verdict', () => {
    const ov = (peakMb: number, growthKb: number, heapCapMb?: number): OverloadResult => ({
      target: 'shekara',
      offeredRate: 40_000,
      seconds: 30,
      ...(heapCapMb ? { heapCapMb } : {}),
      sent: 10,
      acked: 8,
      throttled: 0,
      errors: 0,
      disconnects: 0,
      stayedUp: true,
      healthz: 200,
      rssKb: { first: 100_000, peak: peakMb * 1024, last: peakMb * 1024, series: [] },
      rssFlat: { lastS: 10, growthKb, bounded: growthKb <= 5_000 },
      stored: 8,
      ackedButMissing: 0,
    });
    const r = results({ overload: ov(900, 160_000), overloadCapped: ov(700, 1_000, 1536) });
    const md = markdown(r, summarise(r));
    const rows = md.split('\n').filter((l) => l.startsWith('| overload 40,000 msgs/s'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('peak RSS 900 MB, **not shown bounded**');
    expect(rows[1]).toContain('gateway heap capped at 1,536 MB');
    expect(rows[1]).toContain('peak RSS 700 MB, bounded');
    expect(md).toContain('| overload (heap cap 1,536 MB) | shekara |');
  });

  it('shows no per-thread table for results from before it was recorded', () => {
    const r = results({});
    expect(markdown(r, summarise(r))).not.toContain('main (event loop)');
  });

  it('shows no previous build without --baseline', () => {
    const r = results({});
    expect(markdown(r, summarise(r))).not.toContain('previous build');
  });
});
