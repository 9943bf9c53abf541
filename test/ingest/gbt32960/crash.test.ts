/**
 * Must show, against a real gateway process: GB/T 32960 terminals stream reports over TCP, the
 * gateway is killed with SIGKILL mid-stream (answers in flight, commits queued, deliveries under
 * way), then started again. Every report the gateway had answered with success reaches the OEM
 * (a real HTTP server) at least once; a repeat carries the same delivery id; nothing arrives
 * that no car sent. Each report carries a unique marker (its odometer) to match them up, and
 * the time it was sent with: the OEM must see the pair the car sent.
 *
 * What the OEM counts is what this gateway signed: every POST is checked against this run's own
 * signing key (a key file written per run), so a delivery from any other gateway on the machine
 * (another test's, left running, whose OEM endpoint was a port the kernel handed to this sink
 * again) is told apart and reported, not mistaken for this gateway's. Markers start at a random
 * base, so a foreign marker stream cannot pass for this one. Every gateway process this test
 * spawns is killed at the end, also when a step timed out (a restart still starting is not
 * left behind to deliver into a later test's sink).
 * Needs the build (`npm run build`): the gateway runs as `node bin/shekara.js start`.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, verifySignature } from '../../../src/egress/sign.js';
import { FLAG } from '../../../src/ingest/gbt32960/frame.js';
import { SimTerminal, simReading } from '../../../src/sim/gbt32960.js';
import { registerSimCars } from '../../../src/sim/simulate.js';
import { openSqliteStore } from '../../../src/store/sqlite/index.js';
import { eventually, startTestSink, type TestSink } from '../../egress/helpers.js';
import { kill9, MARKER_POLICY, spawnEgressGateway, type EgressGatewayProcess } from '../../egress/process.js';
import { freePort } from '../../helpers/net.js';

function writeConfig(dir: string, endpoint: string, gbtPort: number, signingKey: string): string {
  writeFileSync(path.join(dir, 'policy.yaml'), MARKER_POLICY);
  writeFileSync(path.join(dir, 'oem.key'), signingKey);
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
      oems: [
        {
          id: 'demo-oem',
          endpoint,
          policyFile: 'policy.yaml',
          signingKeyFile: path.join(dir, 'oem.key'),
          allowPrivateNetworks: true,
        },
      ],
      log: { level: 'warn' },
    }),
  );
  return file;
}

/** Terminals sending real-time reports without waiting for answers; `acked` holds the markers answered with success. */
class Stream {
  /** Marker → the observation time it was sent with (ms, whole seconds: the protocol's resolution). */
  readonly sent = new Map<number, number>();
  readonly acked = new Set<number>();
  private terminals: SimTerminal[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Odometer values fit 0..999,999.9 km on the wire; a random base per run. */
  private next = randomInt(100_000, 900_000);

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
        // The odometer (km, one decimal on the wire) is the marker; recorded before the write.
        const reading = { ...simReading(marker, Date.now()), odometerKm: marker };
        this.sent.set(marker, reading.time);
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

/**
 * What the OEM received, as the OEM would check it: hits signed with this run's key are this
 * gateway's (`foreign` counts the others); among them a marker must have been sent, with the
 * time it was sent with (`unexpected` otherwise, each with what arrived).
 */
function account(stream: Stream, hits: TestSink['hits'], key: Buffer) {
  const byMarker = new Map<number, string[]>();
  const unexpected: { marker: unknown; observedAt: unknown }[] = [];
  let foreign = 0;
  for (const h of hits) {
    if (!verifySignature(key, h.raw, h.headers[SIGNATURE_HEADER] as string | undefined, Date.now(), 3_600)) {
      foreign += 1;
      continue;
    }
    const body = h.body as unknown as { deliveryId: string; observedAt: string; signals: Record<string, unknown> };
    const m = body.signals['Vehicle.TraveledDistance'];
    const sentAt = typeof m === 'number' ? stream.sent.get(m) : undefined;
    if (sentAt === undefined || Date.parse(body.observedAt) !== sentAt) {
      unexpected.push({ marker: m, observedAt: body.observedAt });
      continue;
    }
    byMarker.set(m as number, [...(byMarker.get(m as number) ?? []), body.deliveryId]);
  }
  return {
    acked: stream.acked.size,
    delivered: byMarker.size,
    foreign,
    lost: [...stream.acked].filter((m) => !byMarker.has(m)),
    unexpected,
    duplicated: [...byMarker.values()].filter((ids) => ids.length > 1).length,
    repeatsWithOtherId: [...byMarker.values()].filter((ids) => ids.some((id) => id !== ids[0])),
  };
}

describe('gbt32960 › when the gateway process is killed with SIGKILL mid-stream', () => {
  let dir: string;
  let sink: TestSink;
  let stream: Stream | undefined;
  /** Every gateway process started, so none outlives the test (not even one still starting when a step timed out). */
  const gateways: Promise<EgressGatewayProcess>[] = [];
  const start = (config: string) => {
    const p = spawnEgressGateway(config, 180_000);
    gateways.push(p);
    return p;
  };
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-gbt-crash-'));
    sink = await startTestSink();
  });
  afterAll(async () => {
    stream?.stop();
    await Promise.all(gateways.map((p) => p.then(kill9, () => undefined)));
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no report it answered with success, and a repeat carries the same delivery id', async () => {
    // A fixed port, so the restarted gateway listens where the cars connect.
    const port = await freePort();
    const key = randomBytes(32).toString('base64url');
    const config = writeConfig(dir, sink.url, port, key);
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    const vins = (await registerSimCars(store, 5, 'demo-oem', 'LGBTK')).map((c) => c.vin);
    await store.close();

    const first = await start(config);
    stream = new Stream();
    await stream.start(port, vins, 20); // 5 terminals × 50 reports/s
    const s = stream;
    await eventually(() => s.acked.size > 200 && sink.hits.length > 50, 60_000, 'answers and deliveries under load');
    await kill9(first); // mid-stream: reports unanswered, commits queued, deliveries in flight
    s.stop();
    // Some reports were sent and never answered: the crash came mid-stream.
    expect(s.sent.size).toBeGreaterThan(s.acked.size);

    await start(config);
    const signing = Buffer.from(key, 'utf8');
    const result = await eventually(
      () => {
        const r = account(s, sink.hits, signing);
        return r.lost.length === 0 && r;
      },
      120_000,
      'every answered report delivered after the restart',
    ).catch(() => account(s, sink.hits, signing));
    console.info(
      `gbt32960 kill -9: sent ${s.sent.size}, answered ${result.acked}, delivered ${result.delivered}, lost ${result.lost.length}, duplicated ${result.duplicated}, unexpected ${result.unexpected.length}, foreign ${result.foreign}`,
    );
    expect(result.acked).toBeGreaterThan(200);
    expect(result.lost).toEqual([]);
    expect(result.unexpected.slice(0, 20)).toEqual([]);
    expect(result.repeatsWithOtherId).toEqual([]);
  }, 600_000); // two gateway starts and a backlog on a loaded 2-core machine: minutes
});
