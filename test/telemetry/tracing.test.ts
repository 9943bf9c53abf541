/**
 * The tracing half of the telemetry module, against a real OTLP/HTTP collector on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTelemetry, traceIdOf, traceParentOf, type Telemetry } from '../../src/telemetry/index.js';
import { createLogger } from '../../src/log.js';
import { startCollector, type Collector } from './collector.js';

const log = createLogger('silent');
const cfg = (tracing: Record<string, unknown>) => ({
  serviceName: 'shekara-test',
  tracing: { enabled: true, otlpUrl: 'http://127.0.0.1:1/v1/traces', sampleRatio: 1, ...tracing },
  metrics: { prometheus: { enabled: false, host: '127.0.0.1', port: 0 } },
});

let telemetry: Telemetry | undefined;
let collector: Collector | undefined;
afterEach(async () => {
  await telemetry?.close();
  await collector?.close();
  telemetry = undefined;
  collector = undefined;
});

describe('telemetry › tracing', () => {
  it('exports ended spans over OTLP/HTTP under the configured service name', async () => {
    collector = await startCollector();
    telemetry = await createTelemetry(cfg({ otlpUrl: collector.tracesUrl }), { log });
    const span = telemetry.tracing.tracer.startSpan('shekara.test', { attributes: { 'shekara.record_id': 'r1' } });
    span.end();
    await telemetry.tracing.flush();
    expect(collector.spans).toMatchObject([
      {
        name: 'shekara.test',
        traceId: span.spanContext().traceId,
        serviceName: 'shekara-test',
        attributes: { 'shekara.record_id': 'r1' },
      },
    ]);
  });

  it('continues a trace from a stored traceparent, as the next hop does', async () => {
    collector = await startCollector();
    telemetry = await createTelemetry(cfg({ otlpUrl: collector.tracesUrl }), { log });
    const { tracer } = telemetry.tracing;
    const first = tracer.startSpan('hop-1');
    const stored = traceParentOf(first);
    first.end();
    expect(stored).toBe(`00-${first.spanContext().traceId}-${first.spanContext().spanId}-01`);
    const second = tracer.startSpan('hop-2', {}, telemetry.tracing.parentFrom(stored));
    second.end();
    await telemetry.tracing.flush();
    const [a, b] = collector.spans;
    expect(b).toMatchObject({ name: 'hop-2', traceId: a!.traceId, parentSpanId: a!.spanId });
  });

  it('a malformed traceparent starts a new trace instead of failing', async () => {
    telemetry = await createTelemetry(cfg({}), { log });
    const span = telemetry.tracing.tracer.startSpan('x', {}, telemetry.tracing.parentFrom('00-zz-not-a-trace'));
    expect(traceIdOf(span)).toMatch(/^[0-9a-f]{32}$/);
    span.end();
  });

  it('with sampleRatio 0 records nothing and stores no trace id, but passes the decision on', async () => {
    collector = await startCollector();
    telemetry = await createTelemetry(cfg({ otlpUrl: collector.tracesUrl, sampleRatio: 0 }), { log });
    const root = telemetry.tracing.tracer.startSpan('root');
    expect(traceIdOf(root)).toBeNull();
    expect(traceParentOf(root)).toMatch(/-00$/);
    const child = telemetry.tracing.tracer.startSpan('child', {}, telemetry.tracing.parentFrom(traceParentOf(root)));
    expect(child.isRecording()).toBe(false);
    root.end();
    child.end();
    await telemetry.close();
    telemetry = undefined;
    expect(collector.requests).toEqual([]);
  });

  it('when disabled, spans are the no-op kind: no trace parent, no trace id, no export', async () => {
    collector = await startCollector();
    telemetry = await createTelemetry(cfg({ enabled: false, otlpUrl: collector.tracesUrl }), { log });
    const span = telemetry.tracing.tracer.startSpan(
      'x',
      {},
      telemetry.tracing.parentFrom('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
    );
    expect(span.isRecording()).toBe(false);
    expect(traceParentOf(span)).toBeNull();
    expect(traceIdOf(span)).toBeNull();
    span.end();
    await telemetry.close();
    telemetry = undefined;
    expect(collector.requests).toEqual([]);
  });
});
