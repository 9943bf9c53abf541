/**
 * Logs stay pino JSON lines: secrets and account data redacted by path whatever a call site
 * logs, and, inside a traced delivery, the trace the line belongs to.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { telemetryTopic } from '../../src/ingest/index.js';
import { newCar, nextTelemetry } from '../../src/sim/telemetry.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startCollector, type Collector } from './collector.js';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, log: createLogger(level, stream) };
}

describe('logs › redaction by path', () => {
  it('replaces secrets, credentials and account data wherever a call site puts them', () => {
    const { lines, log } = capture();
    log.info(
      {
        password: 'hunter2-secret',
        secret: 's3cr3t',
        req: { headers: { authorization: 'Basic dmluOnNlY3JldA==' } },
        vehicle: { secretHash: 'abcd', account: { 'Account.Owner.Name': 'Aigerim' } },
        account: { phone: '+7 701 555 0001' },
        masterKey: 'k',
        oem: 'demo-oem',
      },
      'careless line',
    );
    const text = JSON.stringify(lines);
    for (const leaked of ['hunter2', 's3cr3t', 'dmluOnNlY3JldA', 'abcd', 'Aigerim', '+7 701', '"k"'])
      expect(text).not.toContain(leaked);
    expect(lines[0]).toMatchObject({
      password: '[redacted]',
      secret: '[redacted]',
      req: { headers: { authorization: '[redacted]' } },
      vehicle: { secretHash: '[redacted]', account: '[redacted]' },
      account: '[redacted]',
      oem: 'demo-oem',
    });
  });
});

describe('logs › trace ids', () => {
  let gw: TestGateway | undefined;
  let collector: Collector | undefined;
  afterEach(async () => {
    await gw?.stop();
    await collector?.close();
    gw = undefined;
    collector = undefined;
  });

  const failOnce = async (tracing: boolean) => {
    collector = await startCollector();
    const { lines, log } = capture('warn');
    gw = await startTestGateway({
      cars: 1,
      log,
      config: {
        egress: { initialBackoffMs: 20, maxBackoffMs: 50, pollIntervalMs: 20 },
        telemetry: { tracing: { enabled: tracing, otlpUrl: collector.tracesUrl } },
      },
    });
    gw.sink.setStatus(503);
    const car = gw.cars[0]!;
    const client = await gw.connect(car);
    await client.publishAsync(telemetryTopic(car.vin), JSON.stringify(nextTelemetry(newCar(car.vin, 0), Date.now())), {
      qos: 1,
    });
    const line = await eventually(
      () => lines.find((l) => l.msg === 'egress: delivery failed, will retry'),
      10_000,
      'a failed-attempt log line',
    );
    const rows = await gw.app.store.listEgressLog({ recordId: line.recordId as string });
    return { line, row: rows.find((r) => r.outcome === 'failed')! };
  };

  it('a failed delivery logs the trace id its egress-log row holds', async () => {
    const { line, row } = await failOnce(true);
    expect(row.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(line.trace_id).toBe(row.traceId);
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('with tracing off, the same line has no trace fields', async () => {
    const { line, row } = await failOnce(false);
    expect(row.traceId).toBeNull();
    expect(line).not.toHaveProperty('trace_id');
    expect(line).not.toHaveProperty('span_id');
  });
});
