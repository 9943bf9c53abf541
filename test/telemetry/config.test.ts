import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ShekaraError } from '../../src/errors.js';

const parse = (text: string) => parseConfig(text, 'shekara.yaml', '/etc/shekara', { env: {} });
const problems = (text: string): string[] => {
  try {
    parse(text);
  } catch (err) {
    expect((err as ShekaraError).code).toBe('SHK_CONFIG_INVALID');
    return (err as ShekaraError).details.problems as string[];
  }
  throw new Error('config was accepted');
};

describe('config › telemetry', () => {
  it('is off by default: no tracing, no Prometheus listener, no OTLP metrics', () => {
    // serviceName, otlpUrl and sampleRatio are absent: the standard OTEL_* variables decide (sdk.ts).
    expect(parse('').telemetry).toEqual({
      tracing: { enabled: false },
      metrics: { prometheus: { enabled: false, host: '127.0.0.1', port: 9464 } },
    });
  });

  it('binds the Prometheus listener to loopback unless told otherwise', () => {
    expect(parse('telemetry: { metrics: { prometheus: { enabled: true } } }').telemetry.metrics.prometheus).toEqual({
      enabled: true,
      host: '127.0.0.1',
      port: 9464,
    });
  });

  it('rejects an unknown key with its line and path', () => {
    expect(problems('telemetry:\n  tracing:\n    enabled: true\n    endpoint: http://x\n')).toEqual([
      'shekara.yaml:4 telemetry.tracing.endpoint: unknown key',
    ]);
  });

  it('rejects a sample ratio outside 0..1 and an OTLP URL that is not http(s)', () => {
    const p = problems(
      'telemetry:\n  tracing: { sampleRatio: 1.5 }\n  metrics: { otlpUrl: "grpc://collector:4317" }\n',
    );
    expect(p.some((x) => x.includes('telemetry.tracing.sampleRatio') && x.includes('<= 1'))).toBe(true);
    expect(p.some((x) => x.includes('telemetry.metrics.otlpUrl'))).toBe(true);
  });

  it('refuses a Prometheus port that is also the HTTP port', () => {
    expect(problems('http: { port: 9464 }\ntelemetry: { metrics: { prometheus: { enabled: true } } }\n')).toEqual([
      'telemetry.metrics.prometheus.port: 9464 is also http.port; metrics get their own listener',
    ]);
  });

  it('sends no traceparent to an OEM unless the operator opts in for it', () => {
    const cfg = parse(
      'oems:\n  - { id: a, endpoint: "https://a.example/x", policyFile: a.yaml }\n  - { id: b, endpoint: "https://b.example/x", policyFile: b.yaml, propagateTraceContext: true }\n',
    );
    expect(cfg.oems.map((o) => o.propagateTraceContext)).toEqual([false, true]);
  });
});
