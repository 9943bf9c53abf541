/**
 * The Prometheus scrape endpoint, on its own listener: metrics describe the traffic (volumes,
 * outcomes, per-OEM counts), which is not for the public port cars and regulators reach. Deny
 * by default: only `GET /metrics` (and HEAD) is served; every other path is 404, every other
 * method 405. It binds to loopback unless the config says otherwise.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { listen } from '../net.js';

export interface PrometheusListener {
  readonly port: number;
  close(): Promise<void>;
}

export const METRICS_PATH = '/metrics';

export async function startPrometheusListener(
  cfg: { readonly host: string; readonly port: number },
  exporter: PrometheusExporter,
): Promise<PrometheusListener> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== METRICS_PATH) {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(`not found: this listener serves only GET ${METRICS_PATH}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    exporter.getMetricsRequestHandler(req, res);
  });
  // A scraper sends one small request; a slow or oversized one is not worth a socket.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.maxHeadersCount = 32;
  const port = await listen(server, cfg.port, cfg.host, 'Prometheus metrics');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
