/**
 * What the load-generator processes (bench/publisher.ts for MQTT cars, bench/gbt-publisher.ts
 * for GB/T 32960 terminals) share: the messages from bench/procs.ts, the reply to it, and the
 * zeroed stats they count into.
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
