/**
 * Telemetry configured the way OpenTelemetry's users configure it: the standard OTEL_* variables,
 * read by the NodeSDK, against a real OTLP/HTTP collector on loopback. The config file still wins
 * where it says something; where it is silent, the environment decides.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TraceFlags, type Span } from '@opentelemetry/api';
import { createTelemetry, type Telemetry } from '../../src/telemetry/index.js';
import { createLogger } from '../../src/log.js';
import { ShekaraError } from '../../src/errors.js';
import type { TelemetryConfig } from '../../src/config/schema.js';
import { startCollector, type Collector } from './collector.js';

const log = createLogger('silent');
const tracingOn = (over: Partial<TelemetryConfig['tracing']> = {}, serviceName?: string): TelemetryConfig => ({
  ...(serviceName !== undefined && { serviceName }),
  tracing: { enabled: true, ...over },
  metrics: { prometheus: { enabled: false, host: '127.0.0.1', port: 0 } },
});

let telemetry: Telemetry | undefined;
let collector: Collector | undefined;
type Env = Record<string, string>;
/** The SDK reads the process environment (the standard): set it for one test. */
const withEnv = (env: Env) => {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
};
afterEach(async () => {
  vi.unstubAllEnvs();
  await telemetry?.close();
  await collector?.close();
  telemetry = undefined;
  collector = undefined;
});

/** The span was sampled (W3C flag), which stays true after it ended, unlike isRecording(). */
const sampled = (span: Span) => (span.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

async function oneSpan(cfg: TelemetryConfig, env: Env) {
  withEnv(env);
  telemetry = await createTelemetry(cfg, { log });
  const span = telemetry.tracing.tracer.startSpan('shekara.test');
  span.end();
  await telemetry.tracing.flush();
  return span;
}

describe('telemetry › the standard OTEL_* environment', () => {
  it('sends to OTEL_EXPORTER_OTLP_ENDPOINT under OTEL_SERVICE_NAME with OTEL_RESOURCE_ATTRIBUTES and detected host attributes', async () => {
    collector = await startCollector();
    const span = await oneSpan(tracingOn(), {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.baseUrl,
      OTEL_SERVICE_NAME: 'shekara-almaty-1',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=kz-test,service.namespace=border',
    });
    expect(collector.spans).toHaveLength(1);
    expect(collector.spans[0]).toMatchObject({
      traceId: span.spanContext().traceId,
      serviceName: 'shekara-almaty-1',
      resource: { 'deployment.environment': 'kz-test', 'service.namespace': 'border' },
    });
    // Resource detection ran (the host detector), as the NodeSDK does by default.
    expect(collector.spans[0]!.resource['host.name']).toEqual(expect.any(String));
  });

  it('names the service `shekara` when neither the config nor the environment does', async () => {
    collector = await startCollector();
    await oneSpan(tracingOn({ otlpUrl: collector.tracesUrl }), {});
    expect(collector.spans.map((s) => s.serviceName)).toEqual(['shekara']);
  });

  it('lets the config file win where it speaks: its endpoint and its service name over the environment', async () => {
    collector = await startCollector();
    const elsewhere = await startCollector();
    try {
      await oneSpan(tracingOn({ otlpUrl: collector.tracesUrl }, 'from-config'), {
        OTEL_EXPORTER_OTLP_ENDPOINT: elsewhere.baseUrl,
        OTEL_SERVICE_NAME: 'from-env',
      });
      expect(collector.spans.map((s) => s.serviceName)).toEqual(['from-config']);
      expect(elsewhere.requests).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it('takes the sampler from OTEL_TRACES_SAMPLER when the config sets no ratio, and the ratio when it does', async () => {
    collector = await startCollector();
    const off = await oneSpan(tracingOn({ otlpUrl: collector.tracesUrl }), { OTEL_TRACES_SAMPLER: 'always_off' });
    expect(sampled(off)).toBe(false);
    await telemetry!.close();
    const on = await oneSpan(tracingOn({ otlpUrl: collector.tracesUrl, sampleRatio: 1 }), {
      OTEL_TRACES_SAMPLER: 'always_off',
    });
    expect(sampled(on)).toBe(true);
    expect(collector.spans.map((s) => s.traceId)).toEqual([on.spanContext().traceId]);
  });

  it('speaks OTLP/HTTP protobuf when OTEL_EXPORTER_OTLP_PROTOCOL says so', async () => {
    collector = await startCollector();
    await oneSpan(tracingOn(), {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.baseUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    });
    expect(collector.requests).toEqual([
      expect.objectContaining({ path: '/v1/traces', contentType: 'application/x-protobuf' }),
    ]);
  });

  it('refuses an unknown OTLP protocol at start with the variable that named it', async () => {
    withEnv({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'carrier-pigeon' });
    const err = await createTelemetry(tracingOn(), { log })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShekaraError);
    expect((err as ShekaraError).code).toBe('SHK_CONFIG_INVALID');
    expect((err as ShekaraError).message).toContain('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=carrier-pigeon');
  });

  it('starts nothing when OTEL_SDK_DISABLED=true, even with tracing on in the config', async () => {
    collector = await startCollector();
    const span = await oneSpan(tracingOn({ otlpUrl: collector.tracesUrl }), { OTEL_SDK_DISABLED: 'true' });
    expect(telemetry!.tracing.enabled).toBe(false);
    expect(sampled(span)).toBe(false);
    expect(collector.requests).toEqual([]);
  });

  it('pushes metrics when OTEL_METRICS_EXPORTER=otlp, to the endpoint the environment names', async () => {
    collector = await startCollector();
    withEnv({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: collector.baseUrl });
    telemetry = await createTelemetry(
      { tracing: { enabled: false }, metrics: { prometheus: { enabled: false, host: '127.0.0.1', port: 0 } } },
      { log },
    );
    expect(telemetry.metrics.enabled).toBe(true);
    telemetry.metrics.ingestMessages.add(1, { channel: 'mqtt', outcome: 'stored' });
    await telemetry.close(); // the last push happens at close
    telemetry = undefined;
    expect(collector.requests.map((r) => r.path)).toContain('/v1/metrics');
  });

  it('with everything off in the config, turns nothing on from the environment but OTEL_METRICS_EXPORTER=otlp', async () => {
    withEnv({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_EXPORTER: 'otlp', OTEL_METRICS_EXPORTER: 'console,prometheus' });
    telemetry = await createTelemetry(
      { tracing: { enabled: false }, metrics: { prometheus: { enabled: false, host: '127.0.0.1', port: 0 } } },
      { log },
    );
    expect(telemetry.tracing.enabled).toBe(false);
    expect(telemetry.metrics.enabled).toBe(false);
  });
});
