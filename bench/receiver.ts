/**
 * The far side of the pipe, in its own process: for Shekara a real HTTP server standing in for
 * the OEM endpoint (what the egress worker POSTs to); for Mosquitto an mqtt.js subscriber on
 * `vehicles/+/telemetry` (pass-through: the consumer an operator would run behind a plain
 * broker). Both read the car's publish time — the payload's `ts`, which Shekara carries into
 * the delivered body as `observedAt` — so latency is measured the same way on both sides.
 */
import { createServer } from 'node:http';
import mqtt from 'mqtt';

export type ReceiverJob = { kind: 'http'; port: number } | { kind: 'mqtt'; url: string };
export interface ReceiverReport {
  received: number;
  parseErrors: number;
  latenciesMs: number[];
}
type Msg = { type: 'job'; job: ReceiverJob } | { type: 'report'; from: number; to: number } | { type: 'stop' };

let received = 0;
let parseErrors = 0;
// Publish times and latencies of every message, as two flat arrays (100k numbers is ~1 MB).
const sentAt: number[] = [];
const latency: number[] = [];
let close: () => Promise<void> = async () => undefined;

function note(publishedIso: unknown): void {
  const now = Date.now();
  const t = typeof publishedIso === 'string' ? Date.parse(publishedIso) : NaN;
  received += 1;
  if (!Number.isFinite(t)) {
    parseErrors += 1;
    return;
  }
  sentAt.push(t);
  latency.push(now - t);
}

async function start(job: ReceiverJob): Promise<void> {
  if (job.kind === 'http') {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            observedAt?: unknown;
            items?: { body?: { observedAt?: unknown } }[];
          };
          // A batched push (`--batch N`) carries each record's single-POST body as an item.
          if (Array.isArray(body.items)) for (const it of body.items) note(it.body?.observedAt);
          else note(body.observedAt);
        } catch {
          parseErrors += 1;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(job.port, '127.0.0.1', () => resolve());
    });
    close = () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
  } else {
    const client = await mqtt.connectAsync(job.url, {
      clientId: `bench-sub-${process.pid}`,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
    });
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    client.on('message', (_topic, payload) => {
      try {
        note((JSON.parse(payload.toString('utf8')) as { ts?: unknown }).ts);
      } catch {
        parseErrors += 1;
      }
    });
    await client.subscribeAsync('vehicles/+/telemetry', { qos: 1 });
    close = () => client.endAsync(true);
  }
}

function report(from: number, to: number): ReceiverReport {
  const latenciesMs: number[] = [];
  for (let i = 0; i < sentAt.length; i++) if (sentAt[i]! >= from && sentAt[i]! < to) latenciesMs.push(latency[i]!);
  return { received, parseErrors, latenciesMs };
}

process.on('message', (m: Msg) => {
  if (m.type === 'job')
    start(m.job).then(
      () => process.send?.({ type: 'ready' }),
      (err: Error) => process.send?.({ type: 'failed', error: err.message }),
    );
  else if (m.type === 'report') process.send?.({ type: 'report', report: report(m.from, m.to) });
  else if (m.type === 'stop') void close().finally(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
