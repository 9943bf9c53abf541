/**
 * One GB/T 32960 load-generator process (forked by bench/gbt32960.ts, several side by side).
 * Each car is a real terminal over TCP (src/sim/gbt32960.ts, 2016 edition): it logs in, then
 * keeps `window` real-time reports unanswered (closed loop, max rate) until `endAt`. A report
 * counts as acknowledged when Shekara answered it with success, which it does only after the
 * record is durable. Same messages and stats as bench/publisher.ts, so bench/procs.ts drives both.
 */
import { readFileSync } from 'node:fs';
import { FLAG } from '../src/ingest/gbt32960/frame.js';
import { SimTerminal, simReading } from '../src/sim/gbt32960.js';
import type { PublisherGo, PublisherJob } from './publisher.js';
import { connectEach, emptyStats, sendToParent, serveOrchestrator, sleep } from './worker-ipc.js';

const send = sendToParent;
const stats = emptyStats();
let job: PublisherJob;
const terminals: { t: SimTerminal; outstanding: number; up: boolean }[] = [];

serveOrchestrator(stats, { connect: connectAll, run, finish });

async function connectAll(j: PublisherJob): Promise<void> {
  job = j;
  const { hostname, port } = new URL(job.url); // tcp://127.0.0.1:PORT
  const vins = (JSON.parse(readFileSync(job.credsFile, 'utf8')) as { vin: string }[])
    .slice(job.from, job.to)
    .map((c) => c.vin);
  await connectEach(vins, job.connectConcurrency, stats, async (vin) => {
    const t = await SimTerminal.connect({ host: hostname, port: Number(port), vin });
    if ((await t.login()).flag !== FLAG.success) throw new Error('login refused');
    const entry = { t, outstanding: 0, up: true };
    t.socket.on('close', () => {
      entry.up = false;
      stats.disconnects += 1;
    });
    terminals.push(entry);
  });
}

async function run(go: PublisherGo): Promise<void> {
  await sleep(go.startAt - Date.now());
  let i = job.from;
  const publish = (c: (typeof terminals)[number]) => {
    const now = Date.now();
    if (now >= go.endAt || !c.up) return;
    const inWindow = now >= go.measureFrom && now < go.measureTo;
    c.outstanding += 1;
    stats.sent += 1;
    if (inWindow) stats.sentInWindow += 1;
    c.t.report(simReading(i++, now)).then(
      (answer) => {
        c.outstanding -= 1;
        if (answer.flag !== FLAG.success) {
          stats.errors += 1;
          return;
        }
        stats.acked += 1;
        const t = Date.now();
        if (t >= go.measureFrom && t < go.measureTo) stats.ackedInWindow += 1;
        publish(c);
      },
      () => {
        c.outstanding -= 1;
        stats.errors += 1;
      },
    );
  };
  for (const c of terminals) for (let k = 0; k < job.window; k++) publish(c);
  await sleep(go.endAt - Date.now());
  const drainUntil = Date.now() + go.drainMs;
  while (terminals.some((c) => c.outstanding > 0 && c.up) && Date.now() < drainUntil) await sleep(50);
}

let finished = false;
async function finish(): Promise<void> {
  if (finished) return;
  finished = true;
  await send({ type: 'done', stats: { ...stats }, ackLatenciesMs: [] });
  for (const c of terminals) c.t.close();
  process.exit(0);
}
