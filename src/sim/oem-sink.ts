/**
 * `shekara oem-sink`: a real HTTP server standing in for an OEM endpoint abroad. It prints (or
 * appends to a file) exactly what crossed the border, one JSON line per delivery (per item of a
 * batched POST).
 */
import { createServer, type Server } from 'node:http';
import { appendFileSync } from 'node:fs';
import { listen } from '../net.js';
import { BATCH_CONTENT_TYPE } from '../egress/batch.js';

export interface SinkDelivery {
  readonly receivedAt: string;
  readonly path: string;
  readonly headers: Record<string, string | undefined>;
  readonly body: unknown;
  /** Items in the POST that carried this delivery, when it came in a batch. */
  readonly batchSize?: number;
}

interface BatchItem {
  readonly idempotencyKey: string;
  readonly deliveryId: string;
  readonly body: unknown;
}

export interface OemSink {
  readonly port: number;
  readonly deliveries: SinkDelivery[];
  /** Status to answer with from now on (200 by default); lets tests play an OEM outage. */
  setStatus(status: number): void;
  /** Answers the next `count` requests with `status`, then goes back to the status set before. */
  failNext(count: number, status: number): void;
  close(): Promise<void>;
}

export async function startOemSink(opts: {
  port: number;
  host?: string;
  out?: string;
  print?: (d: SinkDelivery) => void;
}): Promise<OemSink> {
  const deliveries: SinkDelivery[] = [];
  let status = 200;
  let failing = { count: 0, status: 503 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failing.count > 0) {
        failing.count -= 1;
        res.writeHead(failing.status).end();
        return;
      }
      if (status < 200 || status >= 300) {
        res.writeHead(status).end();
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"body is not JSON"}');
        return;
      }
      const at = new Date().toISOString();
      const path = req.url ?? '/';
      // traceparent: only an OEM with propagateTraceContext gets one (docs/observability.md).
      const traceparent = header(req.headers.traceparent);
      // A batched push (docs/oem-api.md#batched-push) is one delivery per item, each with its own id.
      const batch = header(req.headers['content-type'])?.startsWith(BATCH_CONTENT_TYPE);
      const items: SinkDelivery[] = batch
        ? ((body as { items?: BatchItem[] }).items ?? []).map((it) => ({
            receivedAt: at,
            path,
            headers: { 'idempotency-key': it.idempotencyKey, 'shekara-delivery-id': it.deliveryId, traceparent },
            body: it.body,
            batchSize: (body as { items: unknown[] }).items.length,
          }))
        : [
            {
              receivedAt: at,
              path,
              headers: {
                'idempotency-key': header(req.headers['idempotency-key']),
                'shekara-delivery-id': header(req.headers['shekara-delivery-id']),
                traceparent,
              },
              body,
            },
          ];
      // One write per request (a batch's items together): a write per item would make the sink,
      // not the gateway, what a throughput run measures.
      if (opts.out) appendFileSync(opts.out, items.map((d) => `${JSON.stringify(d)}\n`).join(''));
      for (const d of items) {
        deliveries.push(d);
        opts.print?.(d);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  const port = await listen(server, opts.port, opts.host ?? '127.0.0.1', 'OEM sink');
  return {
    port,
    deliveries,
    setStatus: (s) => {
      status = s;
    },
    failNext: (count, s) => {
      failing = { count, status: s };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
