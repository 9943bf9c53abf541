/**
 * OTLP exporters, chosen the way OpenTelemetry's users configure them. The config file may name
 * an endpoint (`telemetry.tracing.otlpUrl`, `telemetry.metrics.otlpUrl`); when it does not, the
 * exporter takes the standard variables itself — OTEL_EXPORTER_OTLP_{TRACES_,METRICS_,}ENDPOINT,
 * …_HEADERS, …_TIMEOUT, …_COMPRESSION. The wire protocol comes from
 * OTEL_EXPORTER_OTLP_{TRACES_,METRICS_,}PROTOCOL: `http/json` (Shekara's default, as before the
 * SDK), `http/protobuf` or `grpc`.
 *
 * Only the exporter of the chosen protocol is imported (grpc pulls in a whole HTTP/2 client),
 * and only when that signal is on: telemetry off loads none of them.
 */
import { ShekaraError } from '../errors.js';

/**
 * The standard OTEL_* variables. The OpenTelemetry SDK reads them from the process environment
 * itself (that is the standard), so Shekara's own few reads of them (the protocol, the metrics
 * exporter, OTEL_SDK_DISABLED) take the same source, here and nowhere else.
 */
export type OtelEnv = Readonly<Record<string, string | undefined>>;
export const otelEnv = (): OtelEnv => process.env;

export type OtlpProtocol = 'http/json' | 'http/protobuf' | 'grpc';
const PROTOCOLS: readonly OtlpProtocol[] = ['http/json', 'http/protobuf', 'grpc'];

export function otlpProtocol(signal: 'traces' | 'metrics', env: OtelEnv): OtlpProtocol {
  const name = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`;
  const [variable, value] = env[name]
    ? [name, env[name]]
    : ['OTEL_EXPORTER_OTLP_PROTOCOL', env.OTEL_EXPORTER_OTLP_PROTOCOL];
  if (value === undefined || value === '') return 'http/json';
  if ((PROTOCOLS as readonly string[]).includes(value)) return value as OtlpProtocol;
  throw new ShekaraError('SHK_CONFIG_INVALID', `${variable}=${value}: expected one of ${PROTOCOLS.join(', ')}`);
}

interface Exporters {
  traces: import('@opentelemetry/sdk-trace').SpanExporter;
  metrics: import('@opentelemetry/sdk-metrics').PushMetricExporter;
}

/** An OTLP exporter for `signal`; `target` says where it sends, for logs and the start-up line. */
export async function otlpExporter<S extends 'traces' | 'metrics'>(
  signal: S,
  url: string | undefined,
  env: OtelEnv,
): Promise<{ exporter: Exporters[S]; target: string }> {
  const protocol = otlpProtocol(signal, env);
  const options = url === undefined ? {} : { url };
  const target = `${url ?? 'OTEL_EXPORTER_OTLP_* from the environment'} (${protocol})`;
  const exporter =
    signal === 'traces' ? await traceExporter(protocol, options) : await metricExporter(protocol, options);
  return { exporter: exporter as Exporters[S], target };
}

async function traceExporter(protocol: OtlpProtocol, options: { url?: string }): Promise<Exporters['traces']> {
  switch (protocol) {
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(options);
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(options);
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter(options);
  }
}

async function metricExporter(protocol: OtlpProtocol, options: { url?: string }): Promise<Exporters['metrics']> {
  switch (protocol) {
    case 'http/json':
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter(options);
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter(options);
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter(options);
  }
}
