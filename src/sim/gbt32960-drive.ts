/**
 * `shekara simulate --protocol gbt32960`: N terminals log in over TCP (or TLS), send real-time
 * reports at a fixed total rate for a bounded time, and log out. Each report counts as
 * acknowledged when Shekara answered it with success (after its commit).
 */
import type { ConnectionOptions } from 'node:tls';
import { FLAG, type Edition } from '../ingest/gbt32960/frame.js';
import { SimTerminal, simReading } from './gbt32960.js';
import type { SimProgress } from './simulate.js';

export interface GbtSimulateOptions {
  readonly host: string;
  readonly port: number;
  readonly rate: number;
  readonly durationSeconds: number;
  readonly edition: Edition;
  readonly tls?: ConnectionOptions;
  readonly onProgress?: (p: SimProgress) => void;
}

export async function simulateGbt32960(vins: string[], opts: GbtSimulateOptions): Promise<SimProgress> {
  const progress: SimProgress = { connected: 0, sent: 0, acked: 0, errors: 0, elapsedSeconds: 0 };
  const terminals: SimTerminal[] = [];
  await Promise.all(
    vins.map(async (vin) => {
      const t = await SimTerminal.connect({
        host: opts.host,
        port: opts.port,
        vin,
        edition: opts.edition,
        tls: opts.tls,
      });
      const login = await t.login();
      if (login.flag !== FLAG.success) {
        progress.errors += 1;
        t.close();
        return;
      }
      progress.connected += 1;
      terminals.push(t);
    }),
  );
  const started = Date.now();
  const tickMs = 100;
  let i = 0;
  let due = 0;
  const ticker = setInterval(
    () => opts.onProgress?.({ ...progress, elapsedSeconds: Math.round((Date.now() - started) / 1000) }),
    1000,
  );
  const pending: Promise<void>[] = [];
  try {
    while (terminals.length > 0 && Date.now() - started < opts.durationSeconds * 1000) {
      due += (opts.rate * tickMs) / 1000;
      while (due >= 1) {
        due -= 1;
        const t = terminals[i % terminals.length]!;
        const reading = simReading(i++, Date.now());
        progress.sent += 1;
        pending.push(
          t.report(reading).then(
            (a) => {
              if (a.flag === FLAG.success) progress.acked += 1;
              else progress.errors += 1;
            },
            () => {
              progress.errors += 1;
            },
          ),
        );
      }
      await new Promise((r) => setTimeout(r, tickMs));
    }
    await Promise.all(pending);
    await Promise.all(terminals.map((t) => t.logout().catch(() => undefined)));
  } finally {
    clearInterval(ticker);
    for (const t of terminals) t.close();
  }
  progress.elapsedSeconds = Math.round((Date.now() - started) / 1000);
  return progress;
}
