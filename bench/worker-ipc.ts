/**
 * What the load-generator processes (bench/publisher.ts for MQTT cars, bench/gbt-publisher.ts
 * for GB/T 32960 terminals) share: the messages from bench/procs.ts and the answers to them, the
 * zeroed stats they count into, and the bounded-concurrency connect loop.
 */
import type { PublisherGo, PublisherJob, PublisherStats } from './publisher.js';

export type WorkerMsg = { type: 'job'; job: PublisherJob } | { type: 'go'; go: PublisherGo } | { type: 'stop' };

/** Sends `m` to the orchestrator; resolves once it is handed over (or at once without IPC). */
export const sendToParent = (m: unknown): Promise<void> =>
  new Promise((r) => {
    if (process.send) process.send(m, undefined, {}, () => r());
    else r();
  });

export const emptyStats = (): PublisherStats => ({
  connected: 0,
  connectErrors: 0,
  sent: 0,
  acked: 0,
  errors: 0,
  sentInWindow: 0,
  ackedInWindow: 0,
  throttled: 0,
  disconnects: 0,
});

/**
 * Answers bench/procs.ts: `job` → connect, then report 'connected' with the stats so far; `go` →
 * run, then finish; `stop` → finish. The orchestrator going away must not leave 2,000 sockets open.
 */
export function serveOrchestrator(
  stats: PublisherStats,
  h: { connect(job: PublisherJob): Promise<void>; run(go: PublisherGo): Promise<void>; finish(): Promise<void> },
): void {
  process.on('message', (m: WorkerMsg) => {
    if (m.type === 'job') void h.connect(m.job).then(() => sendToParent({ type: 'connected', stats: { ...stats } }));
    else if (m.type === 'go') void h.run(m.go).then(() => h.finish());
    else if (m.type === 'stop') void h.finish();
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * Connects every item, at most `concurrency` at once (2,000 simultaneous connects would measure
 * the accept queue, not the broker), counting each into `connected` or `connectErrors`.
 */
export async function connectEach<T>(
  items: readonly T[],
  concurrency: number,
  stats: PublisherStats,
  connectOne: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        await connectOne(items[i]!, i);
        stats.connected += 1;
      } catch {
        stats.connectErrors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
