/**
 * The Prometheus listener on its own: a real HTTP server on a loopback port, scraped over a
 * real socket. Deny by default: only GET /metrics answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createTelemetry, type Telemetry } from '../../src/telemetry/index.js';
import { createLogger } from '../../src/log.js';

const log = createLogger('silent');
const cfg = (prometheus: Record<string, unknown>) => ({
  serviceName: 'shekara-test',
  tracing: { enabled: false, otlpUrl: 'http://127.0.0.1:4318/v1/traces', sampleRatio: 1 },
  metrics: { prometheus: { enabled: true, host: '127.0.0.1', port: 0, ...prometheus } },
});

let telemetry: Telemetry | undefined;
afterEach(async () => {
  await telemetry?.close();
  telemetry = undefined;
});

describe('telemetry › Prometheus listener', () => {
  it('serves the counters at GET /metrics in the Prometheus text format', async () => {
    telemetry = await createTelemetry(cfg({}), { log });
    telemetry.metrics.ingestMessages.add(3, { 'shekara.channel': 'mqtt', 'shekara.outcome': 'stored' });
    const res = await request(`http://127.0.0.1:${telemetry.metrics.prometheusPort}/metrics`);
    expect(res.statusCode).toBe(200);
    const text = await res.body.text();
    expect(text).toContain('# TYPE shekara_ingest_messages_total counter');
    expect(text).toMatch(
      /^shekara_ingest_messages_total\{[^}]*shekara_channel="mqtt"[^}]*shekara_outcome="stored"[^}]*\} 3$/m,
    );
  });

  it('answers 404 on any other path and 405 on any other method', async () => {
    telemetry = await createTelemetry(cfg({}), { log });
    const base = `http://127.0.0.1:${telemetry.metrics.prometheusPort}`;
    expect((await request(`${base}/`)).statusCode).toBe(404);
    expect((await request(`${base}/metrics/../healthz`)).statusCode).toBe(404);
    const post = await request(`${base}/metrics`, { method: 'POST', body: 'x' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('starts no listener when disabled, and every instrument is a no-op', async () => {
    telemetry = await createTelemetry(
      { ...cfg({}), metrics: { prometheus: { enabled: false, host: '127.0.0.1', port: 0 } } },
      { log },
    );
    expect(telemetry.metrics.enabled).toBe(false);
    expect(telemetry.metrics.prometheusPort).toBeUndefined();
    let read = 0;
    telemetry.metrics.observe({
      backlog: () => {
        read += 1;
        return 1;
      },
    });
    telemetry.metrics.ingestMessages.add(1);
    expect(read).toBe(0);
  });

  it('stops start-up with SHK_PORT_IN_USE when its port is taken', async () => {
    telemetry = await createTelemetry(cfg({}), { log });
    await expect(createTelemetry(cfg({ port: telemetry.metrics.prometheusPort }), { log })).rejects.toMatchObject({
      code: 'SHK_PORT_IN_USE',
      details: { listener: 'Prometheus metrics' },
    });
  });
});
