/**
 * An OTLP/HTTP collector stand-in for the benchmarks: a loopback HTTP server that reads each
 * export, answers 200 and counts what came; the spans themselves are discarded. (Tests that
 * look at the spans use test/telemetry/collector.ts.)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingCollector {
  /** OTLP/HTTP traces endpoint (`telemetry.tracing.otlpUrl`). */
  readonly tracesUrl: string;
  /** Export requests received so far. */
  readonly requests: number;
  /** Request-body bytes received so far. */
  readonly bytes: number;
  close(): void;
}

export async function startCountingCollector(): Promise<CountingCollector> {
  let requests = 0,
    bytes = 0;
  const server = createServer((req, res) => {
    requests += 1;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  server.unref();
  return {
    tracesUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    get requests() {
      return requests;
    },
    get bytes() {
      return bytes;
    },
    close: () => void server.close(),
  };
}
