/**
 * Sustained egress: a steady rate for a long time (10 minutes at 3,000 msgs/s by default;
 * `--duration S` for a shorter run), car → OEM, measuring whether the outbox stays bounded.
 * Every second the age of the oldest row not yet settled is read from the store file (read-only
 * connection, WAL); the result is its maximum, the car → OEM latencies and how many of the
 * messages sent reached the OEM. Shekara only (Mosquitto has no outbox).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { uuidv7Time } from '../src/ids.js';
import { loadAvg, sleep, startPublishers } from './procs.js';
import { arrivals, windows, withTarget, type Env } from './scenarios.js';

export interface SustainedResult {
  rate: number;
  seconds: number;
  sentInWindow: number;
  deliveredInWindow: number;
  achievedRate: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** The oldest undelivered row's age, sampled every second: its maximum and the last value, seconds. */
  maxOldestAgeS: number;
  finalOldestAgeS: number;
  /** Connections the gateway closed (each car reconnects 1 s later) and publish errors. */
  disconnects: number;
  errors: number;
  loadAvg: [number, number];
}

export async function sustained(
  env: Env,
  o: { cars: number; procs: number; rate: number; seconds: number; drainS: number },
): Promise<SustainedResult> {
  return withTarget(env, 'shekara', async ({ receiver, broker, dir }) => {
    const pubs = await startPublishers(o.procs, o.cars, {
      url: broker.url,
      credsFile: env.credsFile,
      anonymous: false,
      mode: 'rate',
      qos: 1,
      window: 100,
      totalRate: o.rate,
      keepalive: 60,
      connectConcurrency: 50,
      // Ten minutes is long enough for push-back drops: a car that never came back would leave
      // the run and lower the load instead of showing whether the gateway carries it.
      reconnect: true,
    });
    const load0 = loadAvg();
    const w = windows(2, o.seconds, 1);
    const db = new Database(path.join(dir, 'shekara.db'), { readonly: true });
    const oldest = db
      .prepare(`SELECT record_id FROM egress_outbox WHERE status = 'pending' ORDER BY id LIMIT 1`)
      .pluck();
    let maxAge = 0;
    let lastAge = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const id = oldest.get() as string | undefined;
        lastAge = id ? Math.max(0, (Date.now() - uuidv7Time(id)) / 1000) : 0;
        if (Date.now() >= w.measureFrom) maxAge = Math.max(maxAge, lastAge);
        await sleep(1_000);
      }
    })();
    let lastLog = Date.now();
    const progress = setInterval(() => {
      if (Date.now() - lastLog < 60_000) return;
      lastLog = Date.now();
      env.log(`  sustained: oldest undelivered row ${lastAge.toFixed(1)} s (max so far ${maxAge.toFixed(1)} s)`);
    }, 5_000);
    try {
      const { stats } = await pubs.go(w);
      const { lat, q } = await arrivals(receiver, w, stats.sentInWindow, o.drainS);
      const r: SustainedResult = {
        rate: o.rate,
        seconds: o.seconds,
        sentInWindow: stats.sentInWindow,
        deliveredInWindow: lat.length,
        achievedRate: Math.round(stats.sentInWindow / o.seconds),
        p50: q(0.5),
        p99: q(0.99),
        max: lat.at(-1) ?? null,
        maxOldestAgeS: Math.round(maxAge * 10) / 10,
        finalOldestAgeS: Math.round(lastAge * 10) / 10,
        disconnects: stats.disconnects,
        errors: stats.errors,
        loadAvg: [load0, loadAvg()],
      };
      env.log(
        `  sustained ${o.rate}/s for ${o.seconds} s: ${r.deliveredInWindow}/${r.sentInWindow} delivered, p50 ${r.p50} p99 ${r.p99} max ${r.max} ms, oldest undelivered row at most ${r.maxOldestAgeS} s, ${r.disconnects} disconnects (cars reconnect), ${r.errors} errors (load ${r.loadAvg.join(' → ')})`,
      );
      return r;
    } finally {
      sampling = false;
      clearInterval(progress);
      await sampler;
      db.close();
    }
  });
}
