/**
 * A car that sends faster than the store commits: its messages wait in the committer's line
 * (src/ingest/committer.ts) with their PUBACKs withheld, then every one is stored and
 * acknowledged, in the order sent — nothing refused, nothing lost, nothing out of order.
 * A real mqtt.js car over a socket against a gateway that lets one record wait for the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('ingest › a car faster than the store', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 2,
      config: {
        ingest: { maxPendingRecords: 1, commitMaxBatch: 1 },
        limits: { messagesPerSecond: 10_000, messageBurst: 10_000 },
      },
    });
  });
  afterAll(async () => gw?.stop());

  it('waits in line: every message stored and acknowledged, each car in its own order', async () => {
    const clients = await Promise.all(gw.cars.map((car) => gw.connect(car)));
    const n = 150;
    const acks = clients.flatMap((client, c) =>
      Array.from({ length: n }, (_, i) =>
        client.publishAsync(telemetryTopic(gw.cars[c]!.vin), JSON.stringify({ speed: c * 200 + i }), { qos: 1 }),
      ),
    );
    await Promise.all(acks);
    expect((await gw.app.store.counts()).records).toBe(2 * n);
    const speeds = await eventually(
      () => {
        const s = gw.sink.deliveries
          .map((d) => (d.body as { signals: Record<string, number> }).signals['Vehicle.Speed'])
          .filter((v) => v !== undefined);
        return s.length >= 2 * n && s;
      },
      30_000,
      'every record delivered',
    );
    for (let c = 0; c < 2; c++) {
      const own = speeds.filter((v) => v >= c * 200 && v < c * 200 + n);
      expect(own).toEqual(Array.from({ length: n }, (_, i) => c * 200 + i));
    }
  });
});
