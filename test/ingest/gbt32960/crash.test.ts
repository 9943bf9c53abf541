/**
 * Must show, against a real gateway process: GB/T 32960 terminals stream reports over TCP, the
 * gateway is killed with SIGKILL mid-stream (answers in flight, commits queued, deliveries under
 * way), then started again. Every report the gateway had answered with success reaches the OEM
 * (a real HTTP server) at least once; a repeat carries the same delivery id; nothing arrives
 * that no car sent. Each report carries a unique marker (its odometer) to match them up.
 * Needs the build (`npm run build`): the gateway runs as `node bin/shekara.js start`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAG } from '../../../src/ingest/gbt32960/frame.js';
import { SimTerminal, simReading } from '../../../src/sim/gbt32960.js';
import { registerSimCars } from '../../../src/sim/simulate.js';
import { openSqliteStore } from '../../../src/store/sqlite/index.js';
import { eventually, startTestSink, type TestSink } from '../../egress/helpers.js';
import { kill9, MARKER_POLICY, spawnGateway, type GatewayProcess } from '../../egress/process.js';
import { freePort } from '../../helpers/net.js';

function writeConfig(dir: string, endpoint: string, gbtPort: number): string {
  writeFileSync(path.join(dir, 'policy.yaml'), MARKER_POLICY);
  const file = path.join(dir, 'shekara.yaml');
  writeFileSync(
    file,
    stringify({
      dataDir: dir,
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      gbt32960: { enabled: true, tcp: { enabled: true, host: '127.0.0.1', port: gbtPort, allowFrom: ['127.0.0.0/8'] } },
      limits: { messagesPerSecond: 1_000, messageBurst: 1_000 },
      egress: {
        initialBackoffMs: 50,
        maxBackoffMs: 500,
        requestTimeoutMs: 2_000,
        maxAttempts: 100,
        pollIntervalMs: 50,
      },
      oems: [{ id: 'demo-oem', endpoint, policyFile: 'policy.yaml', allowPrivateNetworks: true }],
      log: { level: 'warn' },
    }),
  );
  return file;
}

/** Terminals sending real-time reports without waiting for answers; `acked` holds the markers answered with success. */
class Stream {
  readonly sent = new Set<number>();
  readonly acked = new Set<number>();
  private terminals: SimTerminal[] = [];
  private timer: NodeJS.Timeout | undefined;
  private next = 1;

  async start(port: number, vins: string[], everyMs: number): Promise<void> {
    this.terminals = await Promise.all(
      vins.map(async (vin) => {
        const t = await SimTerminal.connect({ host: '127.0.0.1', port, vin });
        expect((await t.login()).flag).toBe(FLAG.success);
        return t;
      }),
    );
    this.timer = setInterval(() => {
      for (const t of this.terminals) {
        const marker = this.next++;
        this.sent.add(marker);
        // The odometer (km, one decimal on the wire) is the marker.
        const reading = { ...simReading(marker, Date.now()), odometerKm: marker };
        t.report(reading).then(
          (a) => {
            if (a.flag === FLAG.success) this.acked.add(marker);
          },
          () => undefined,
        );
      }
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const t of this.terminals) t.close();
  }
}

function account(stream: Stream, hits: TestSink['hits']) {
  const byMarker = new Map<number, string[]>();
  for (const h of hits) {
    const m = (h.body as { signals: Record<string, unknown> }).signals['Vehicle.TraveledDistance'] as number;
    byMarker.set(m, [...(byMarker.get(m) ?? []), (h.body as { deliveryId: string }).deliveryId]);
  }
  return {
    acked: stream.acked.size,
    delivered: byMarker.size,
    lost: [...stream.acked].filter((m) => !byMarker.has(m)),
    unexpected: [...byMarker.keys()].filter((m) => !stream.sent.has(m)),
    duplicated: [...byMarker.values()].filter((ids) => ids.length > 1).length,
    repeatsWithOtherId: [...byMarker.values()].filter((ids) => ids.some((id) => id !== ids[0])),
  };
}

describe('gbt32960 › when the gateway process is killed with SIGKILL mid-stream', () => {
  let dir: string;
  let sink: TestSink;
  let gw: GatewayProcess | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-gbt-crash-'));
    sink = await startTestSink();
  });
  afterAll(async () => {
    if (gw) await kill9(gw);
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no report it answered with success, and a repeat carries the same delivery id', async () => {
    // A fixed port, so the restarted gateway listens where the cars connect.
    const port = await freePort();
    const config = writeConfig(dir, sink.url, port);
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    const vins = (await registerSimCars(store, 5, 'demo-oem', 'LGBTK')).map((c) => c.vin);
    await store.close();

    gw = await spawnGateway(config);
    const stream = new Stream();
    await stream.start(port, vins, 20); // 5 terminals × 50 reports/s
    await eventually(
      () => stream.acked.size > 200 && sink.hits.length > 50,
      30_000,
      'answers and deliveries under load',
    );
    await kill9(gw); // mid-stream: reports unanswered, commits queued, deliveries in flight
    stream.stop();
    // Some reports were sent and never answered: the crash came mid-stream.
    expect(stream.sent.size).toBeGreaterThan(stream.acked.size);

    gw = await spawnGateway(config);
    const result = await eventually(
      () => {
        const r = account(stream, sink.hits);
        return r.lost.length === 0 && r;
      },
      45_000,
      'every answered report delivered after the restart',
    ).catch(() => account(stream, sink.hits));
    console.info(
      `gbt32960 kill -9: sent ${stream.sent.size}, answered ${result.acked}, delivered ${result.delivered}, lost ${result.lost.length}, duplicated ${result.duplicated}`,
    );
    expect(result.acked).toBeGreaterThan(200);
    expect(result.lost).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.repeatsWithOtherId).toEqual([]);
  }, 150_000);
});
