/**
 * The GB/T 32960 row: terminals over TCP (bench/gbt-publisher.ts) against the gateway's GB/T
 * listener, each keeping `window` real-time reports unanswered, side by side in the same run
 * with the MQTT 3.1.1 path at the same cars, window and duration. A report counts when Shekara
 * answered it with success, i.e. after its record was committed. "Per core" divides by the
 * gateway process's own CPU in the measured window (1.0 = one core busy all the time).
 */
import { loadAvg, PORTS, startPublishers } from './procs.js';
import type { PublisherStats } from './publisher.js';
import { cpuMeter, throughput, windows, withTarget, type Env, type ThroughputResult } from './scenarios.js';

export interface GbtResult {
  framesPerSec: number;
  /** Stored frames per second per core of the gateway process. */
  framesPerCoreSec: number;
  cpuPercent: Record<string, number>;
  cars: number;
  window: number;
  measureSeconds: number;
  loadAvg: [number, number];
  publishers: PublisherStats;
  receiverGot: number;
  storeCounts?: Record<string, number>;
}

export interface GbtRound {
  gbt: GbtResult;
  /** The MQTT 3.1.1 path in the same round, for comparison. */
  mqtt: ThroughputResult & { msgsPerCoreSec: number };
}

const perCore = (perSec: number, cpuPercent: number | undefined) =>
  Math.round(perSec / Math.max(0.01, (cpuPercent ?? 0) / 100));

async function gbtThroughput(
  env: Env,
  o: { cars: number; procs: number; window: number; warmupS: number; measureS: number },
): Promise<GbtResult> {
  return withTarget(env, 'shekara', async ({ broker, receiver }) => {
    const pubs = await startPublishers(
      o.procs,
      o.cars,
      {
        url: `tcp://127.0.0.1:${PORTS.shekaraGbt}`,
        credsFile: env.credsFile,
        anonymous: false,
        mode: 'window',
        qos: 1,
        window: o.window,
        totalRate: 0,
        keepalive: 60,
        connectConcurrency: 50,
      },
      'gbt-publisher.ts',
    );
    const load0 = loadAvg();
    const w = windows(o.warmupS, o.measureS);
    const cpu = cpuMeter(
      { broker: [broker.pid], generator: pubs.pids, receiver: [receiver.pid] },
      w.measureFrom,
      w.measureTo,
    );
    const { stats } = await pubs.go(w);
    const cpuPercent = await cpu;
    const framesPerSec = Math.round(stats.ackedInWindow / o.measureS);
    const got = (await receiver.report(0, 0)).received;
    const framesPerCoreSec = perCore(framesPerSec, cpuPercent.broker);
    env.log(
      `  GB/T 32960: ${framesPerSec} frames/s stored, ${framesPerCoreSec} per gateway core (cpu ${JSON.stringify(cpuPercent)}, OEM got ${got})`,
    );
    return {
      framesPerSec,
      framesPerCoreSec,
      cpuPercent,
      cars: pubs.connected,
      window: o.window,
      measureSeconds: o.measureS,
      loadAvg: [load0, loadAvg()],
      publishers: stats,
      receiverGot: got,
    };
  });
}

/** `rounds` rounds, each the MQTT path and the GB/T path, alternating which goes first. */
export async function gbt32960(
  env: Env,
  o: { rounds: number; cars: number; procs: number; window: number; warmupS: number; measureS: number },
): Promise<GbtRound[]> {
  const out: GbtRound[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const mqttRun = async () => {
      const m = await throughput(env, 'shekara', o);
      return { ...m, msgsPerCoreSec: perCore(m.msgsPerSec, m.cpuPercent.broker) };
    };
    if (r % 2 === 0) {
      const gbt = await gbtThroughput(env, o);
      out.push({ gbt, mqtt: await mqttRun() });
    } else {
      const mqtt = await mqttRun();
      out.push({ gbt: await gbtThroughput(env, o), mqtt });
    }
  }
  return out;
}
