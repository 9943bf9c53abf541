/**
 * Overload memory: every unacknowledged PUBLISH holds its decoded record until its commit, and
 * receiveMaximum alone lets maxConnections × 100 of them pile up (the 40,000 msgs/s bench grew to
 * 1.8 GB that way). limits.maxUnacknowledgedTotal caps them across all cars: at the cap a car's
 * PUBACKs are withheld and its PUBLISHes wait undecoded; every one is still stored, acknowledged
 * and delivered, in the order each car sent them.
 * Real mqtt.js cars over sockets against a gateway whose store takes one record at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CAP = 20;
const CARS = 8;
const EACH = 100; // each car's whole Receive Maximum at once: 800 PUBLISHes, 780 beyond the cap

describe('ingest › limits.maxUnacknowledgedTotal', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: CARS,
      config: {
        ingest: { maxPendingRecords: 1, commitMaxBatch: 1 },
        limits: { messagesPerSecond: 10_000, messageBurst: 10_000, maxUnacknowledgedTotal: CAP },
      },
    });
  });
  afterAll(async () => gw?.stop());

  it('holds at most the cap of decoded records, and loses, refuses and reorders nothing', async () => {
    const clients = await Promise.all(gw.cars.map((car) => gw.connect(car)));
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, gw.app.ingest.recordsWaiting)), 1);
    let disconnects = 0;
    for (const c of clients) c.on('close', () => (disconnects += 1));
    try {
      await Promise.all(
        clients.flatMap((client, c) =>
          Array.from({ length: EACH }, (_, i) =>
            client.publishAsync(telemetryTopic(gw.cars[c]!.vin), JSON.stringify({ odometer: c * 1_000 + i }), {
              qos: 1,
            }),
          ),
        ),
      );
    } finally {
      clearInterval(sample);
    }
    expect(most).toBeLessThanOrEqual(CAP);
    expect(most).toBeGreaterThan(1); // the line did form: the cap, not an idle store, kept it small
    expect(disconnects).toBe(0);
    expect(gw.app.ingest.counters).toMatchObject({ accepted: CARS * EACH, quarantined: 0, rejected: {} });
    expect((await gw.app.store.counts()).records).toBe(CARS * EACH);
    const odometers = await eventually(
      () => {
        const s = gw.sink.deliveries
          .map((d) => (d.body as { signals: Record<string, number> }).signals['Vehicle.TraveledDistance'])
          .filter((v) => v !== undefined);
        return s.length >= CARS * EACH && s;
      },
      60_000,
      'every record delivered',
    );
    for (let c = 0; c < CARS; c++)
      expect(odometers.filter((v) => v >= c * 1_000 && v < c * 1_000 + EACH)).toEqual(
        Array.from({ length: EACH }, (_, i) => c * 1_000 + i),
      );
  });
});
