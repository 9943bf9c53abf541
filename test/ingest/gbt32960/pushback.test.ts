/**
 * A GB/T 32960 car while the store pushes back (egress queue saturated): its report answers are
 * withheld and the same decoded record retried, as for MQTT (src/ingest/pushback.ts). A car that
 * leaves with reports waiting is an expected, bounded condition: counted and logged in
 * aggregate, never one error line with a stack per report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CMD, encodeFrame, FLAG } from '../../../src/ingest/gbt32960/frame.js';
import { reportData, SimTerminal, simReading } from '../../../src/sim/gbt32960.js';
import { eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { captureLog, type LogCapture } from '../../helpers/log-capture.js';

describe('gbt32960 listener › reports withheld under backpressure', () => {
  let gw: TestGateway;
  let cap: LogCapture;
  beforeAll(async () => {
    cap = captureLog('info');
    // maxBacklog 1 with an OEM that answers 503: after the first record the egress queue is
    // saturated and ingest pushes back (answer withheld).
    gw = await startTestGateway({
      cars: 1,
      log: cap.log,
      config: {
        egress: { maxBacklog: 1 },
        gbt32960: { enabled: true, tcp: { enabled: true, host: '127.0.0.1', port: 0, allowFrom: ['127.0.0.0/8'] } },
      },
    });
    gw.sink.setStatus(503);
  });
  afterAll(async () => gw?.stop());

  it('are counted and logged in aggregate, without a stack, when the car leaves with them unanswered', async () => {
    const car = gw.cars[0]!;
    const connect = () => SimTerminal.connect({ host: '127.0.0.1', port: gw.app.ingest.gbt32960Port!, vin: car.vin });
    const first = await connect();
    expect((await first.login()).flag).toBe(FLAG.success);
    expect((await first.report(simReading(1, Date.now()))).flag).toBe(FLAG.success);
    expect((await first.logout()).flag).toBe(FLAG.success);
    first.close();
    await eventually(() => gw.app.egress.saturated, 5_000, 'the egress queue saturated');

    const t = await connect();
    expect((await t.login()).flag).toBe(FLAG.success);
    const reports = Array.from({ length: 5 }, (_, i) =>
      t.frame(CMD.realtime, reportData(2016, simReading(i + 2, Date.now()))),
    );
    // A frame flagged as an answer gets no answer, only a count: once counted, every report before it was read.
    const barrier = encodeFrame({ edition: 2016, command: CMD.heartbeat, flag: FLAG.success, vin: car.vin });
    const answered: number[] = [];
    for (let i = 0; i < reports.length; i++)
      void t.nextAnswer().then(
        (f) => answered.push(f.flag),
        () => undefined,
      );
    t.write(Buffer.concat([...reports, barrier]));
    await eventually(() => gw.app.ingest.counters.rejected['unexpected-answer'] === 1, 5_000, 'the reports read');
    t.close();

    await eventually(() => (gw.app.ingest.counters.rejected['backpressure'] ?? 0) >= 5, 10_000, 'the reports given up');
    expect(answered).toEqual([]);
    expect(gw.app.ingest.counters.rejected['backpressure']).toBe(5);
    expect(cap.lines().filter((l) => String(l.msg).startsWith('gbt32960: could not store'))).toEqual([]);
    expect(cap.lines().filter((l) => l.msg === 'gbt32960: refused' && l.reason === 'backpressure')).toHaveLength(1);
    expect(cap.text()).not.toContain('"stack"');
    // Nothing of the five was stored: the car reissues them.
    expect((await gw.app.store.counts()).records).toBe(1);
  });
});
