/**
 * The per-OEM bound on delivery POSTs in flight (`oems[].batch.maxInFlight`), against a real
 * HTTP OEM endpoint that holds every answer: whatever number of vehicles is due at once, the OEM
 * never has more than the bound of our POSTs open, and the others wait in the gateway, counted.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpDownCounter } from '@opentelemetry/api';
import { createEgress, type Egress } from '../../src/egress/index.js';
import { createLogger } from '../../src/log.js';
import { disabledTelemetry, type Telemetry } from '../../src/telemetry/index.js';
import { commitRecords, egressTestConfig, eventually, tempStore, type TempStore } from './helpers.js';

/** An OEM that answers nothing until told: `open` is the number of requests it holds. */
async function startHoldingOem() {
  const held: ServerResponse[] = [];
  const oem = { open: 0, answered: 0, url: '', held };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      oem.open += 1;
      held.push(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  oem.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oem/telemetry`;
  return Object.assign(oem, {
    /** Answers 200 to every request held now. */
    answerAll() {
      for (const res of held.splice(0)) {
        oem.open -= 1;
        oem.answered += 1;
        res.writeHead(200).end('{"ok":true}');
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

/** Telemetry whose two POST counters are read back here (the sum of their changes). */
function countingTelemetry() {
  const level = { inFlight: 0, waiting: 0 };
  const upDown = (k: keyof typeof level) => ({ add: (d: number) => void (level[k] += d) }) as unknown as UpDownCounter;
  const base = disabledTelemetry();
  const telemetry: Telemetry = {
    ...base,
    metrics: { ...base.metrics, egressPostsInFlight: upDown('inFlight'), egressPostsWaiting: upDown('waiting') },
  };
  return { telemetry, level };
}

describe('egress › POSTs in flight per OEM', () => {
  let ts: TempStore | undefined;
  let egress: Egress | undefined;
  let oem: Awaited<ReturnType<typeof startHoldingOem>> | undefined;
  afterEach(async () => {
    oem?.answerAll();
    await egress?.close();
    await oem?.close();
    await ts?.dispose();
    egress = oem = ts = undefined;
  });

  it('never has more than batch.maxInFlight POSTs open at the OEM; the rest wait, counted', async () => {
    const cap = 3;
    const vehicles = 12;
    ts = tempStore();
    oem = await startHoldingOem();
    const o = oem;
    const config = egressTestConfig(
      'local',
      o.url,
      { concurrency: 32, requestTimeoutMs: 60_000 },
      { batch: { maxInFlight: cap } },
    );
    expect(config.oems[0]!.batch.maxInFlight).toBe(cap);
    const { telemetry, level } = countingTelemetry();
    egress = await createEgress(config.egress, {
      store: ts.store,
      oems: config.oems,
      isStillAllowed: async () => true,
      log: createLogger('silent'),
      telemetry,
    });
    await commitRecords(ts.store, vehicles, 1); // one row each: one POST each, all due at once
    egress.wake();

    const seen: number[] = [];
    while (o.answered < vehicles) {
      // Settled: every POST the gateway put on the wire has reached the OEM, and every row not yet
      // answered is either held there or waiting for a slot. Nothing else can arrive until we answer.
      // (Or the bound is already passed: no need to wait any longer to fail.)
      await eventually(
        () => o.open > cap || (o.open === level.inFlight && o.open + level.waiting === vehicles - o.answered),
        20_000,
        'every unanswered row open at the OEM or waiting for a slot',
      );
      seen.push(o.open);
      expect(o.open).toBeLessThanOrEqual(cap);
      o.answerAll();
    }
    // The bound was reached (12 vehicles due at once), never passed, and every row was delivered.
    expect(seen[0]).toBe(cap);
    expect(Math.max(...seen)).toBe(cap);
    const log = await eventually(
      async () => {
        const l = (await ts!.store.listEgressLog()).filter((r) => r.outcome === 'delivered');
        return l.length >= vehicles && l;
      },
      10_000,
      'one delivered entry per row',
    );
    expect(log).toHaveLength(vehicles);
    await eventually(() => level.inFlight === 0 && level.waiting === 0, 5_000, 'nothing in flight or waiting');
  }, 60_000);

  it('is 32 unless set, and a bound below 1 is refused when the config is read', () => {
    expect(egressTestConfig('local', 'http://127.0.0.1:9/x').oems[0]!.batch.maxInFlight).toBe(32);
    expect(() => egressTestConfig('local', 'http://127.0.0.1:9/x', {}, { batch: { maxInFlight: 0 } })).toThrow(
      /maxInFlight/,
    );
  });
});
