/**
 * A real OTLP/HTTP (JSON) collector for tests: an HTTP server on a loopback port that keeps
 * every span the gateway exports, and counts every request it gets (so a test can prove that
 * nothing was sent at all).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface CollectedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly serviceName: string | undefined;
  /** Every attribute of the span's resource (service.name, host.name, OTEL_RESOURCE_ATTRIBUTES, …). */
  readonly resource: Readonly<Record<string, string | number | boolean>>;
  readonly status: number | undefined;
}

export interface Collector {
  /** http://127.0.0.1:PORT, what OTEL_EXPORTER_OTLP_ENDPOINT names (the exporters add /v1/traces). */
  readonly baseUrl: string;
  readonly tracesUrl: string;
  readonly metricsUrl: string;
  readonly spans: CollectedSpan[];
  /** Every request received, on any path. */
  readonly requests: { path: string; bytes: number; contentType: string | undefined }[];
  close(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

const valueOf = (v: OtlpValue): string | number | boolean =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue ?? '';

export async function startCollector(): Promise<Collector> {
  const spans: CollectedSpan[] = [];
  const requests: Collector['requests'][number][] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const path = req.url ?? '';
      const contentType = req.headers['content-type'];
      requests.push({ path, bytes: body.length, contentType });
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      // Spans are decoded from OTLP/JSON only; a protobuf export is counted in `requests`.
      if (path === '/v1/traces' && contentType?.startsWith('application/json')) {
        const data = JSON.parse(body.toString('utf8')) as OtlpTraces;
        for (const rs of data.resourceSpans ?? []) {
          const resource = Object.fromEntries((rs.resource?.attributes ?? []).map((a) => [a.key, valueOf(a.value)]));
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                name: s.name,
                kind: s.kind,
                attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
                serviceName: resource['service.name'] === undefined ? undefined : String(resource['service.name']),
                resource,
                status: s.status?.code,
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl: base,
    tracesUrl: `${base}/v1/traces`,
    metricsUrl: `${base}/v1/metrics`,
    spans,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
