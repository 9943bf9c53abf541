/**
 * The headline figures of a bench run, as the report (report.ts) computes them and the chart
 * (chart.ts) draws them. Apart from both, so neither imports the other for its type.
 */
import type { Target } from './scenarios.js';

export interface Summary {
  /** MQTT 3.1.1 cars (the published ratio). */
  throughput: Record<Target, number>;
  ratio: number;
  /** The same scenario with MQTT 5 cars. */
  throughput5: Record<Target, number>;
  ratio5: number;
  /** Broker CPU µs per acknowledged message, mean of the MQTT 3.1.1 throughput rounds. */
  cpuPerMsg: Record<Target, number>;
  latency: Record<Target, { p50: number | null; p99: number | null; p999: number | null }>;
  ack: Record<Target, { p50: number | null; p99: number | null; p999: number | null }>;
}
