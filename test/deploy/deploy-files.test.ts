/**
 * The deployment files are checked with what this machine has: systemd's own verifier for the
 * unit, the gateway's own config check for the container config, and consistency between the
 * compose file, the Dockerfile, the collector config and the gateway config. There is no Docker
 * engine here, so the compose stack is checked statically. (The Helm chart: helm.test.ts.)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkConfigFile } from '../../deploy/check-config.mjs';
import { parseConfig } from '../../src/config/load.js';
import { shekaraBinary } from '../helpers/cli.js';
import { runProcess } from '../helpers/run.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  command?: string[];
}
const compose = parse(readFileSync('deploy/docker/docker-compose.yml', 'utf8')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
// Compose interpolates ${VAR:?message} from the environment at `up`; here a stand-in value.
const interpolate = (v: string) =>
  v.replace(/\$\{([A-Z_]+)(:\?[^}]*)?\}/g, (_m, name: string) =>
    name === 'SHEKARA_PG_PASSWORD' ? 'compose-check' : `<${name}>`,
  );
const gatewayEnv = Object.fromEntries(
  Object.entries(services.shekara!.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]),
);
/** The compose config as the gateway sees it. */
async function composeConfig() {
  return parseConfig(
    readFileSync('deploy/docker/shekara.yaml', 'utf8'),
    'deploy/docker/shekara.yaml',
    'deploy/docker',
    { env: gatewayEnv },
  );
}
const rawComposeConfig = parse(readFileSync('deploy/docker/shekara.yaml', 'utf8')) as Record<string, any>;

describe('deploy/', () => {
  it('the systemd unit passes systemd-analyze verify without a warning', async () => {
    const r = await runProcess('systemd-analyze', ['verify', 'deploy/systemd/shekara.service']);
    expect(r.stderr, 'systemd-analyze must be installed (Debian: systemd)').not.toMatch(/ENOENT/);
    expect({ status: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  });

  it("the container config passes the gateway's config check, every key and policy included", async () => {
    const r = await checkConfigFile('deploy/docker/shekara.yaml', { storeUrl: gatewayEnv.SHEKARA_STORE_URL! });
    expect(r.output).toMatch(/^policy .*demo-oem\.yaml: OEM demo-oem/m);
    expect(r.output).toMatch(/^config deploy\/docker\/shekara\.yaml: valid/m);
    expect(r.ok).toBe(true);
    expect((await composeConfig()).dataDir).toBe('/var/lib/shekara');
  });

  it("the compose file publishes the config's ports and mounts the config where the image looks for it", async () => {
    const cfg = await composeConfig();
    const published = services.shekara!.ports!.map((p) => Number(p.split(':')[1]));
    expect(published).toEqual(expect.arrayContaining([cfg.mqtt.port, cfg.http.port]));
    const dockerfile = readFileSync('deploy/docker/Dockerfile', 'utf8');
    const configPath = /SHEKARA_CONFIG=(\S+)/.exec(dockerfile)?.[1];
    expect(services.shekara!.volumes).toContain(`./shekara.yaml:${configPath}:ro`);
  });

  it('the compose file brings up the gateway with Kafka (KRaft, official image), PostgreSQL and an OpenTelemetry collector', () => {
    expect(Object.keys(services).sort()).toEqual(['kafka', 'otel-collector', 'postgres', 'shekara']);
    expect(services.kafka!.image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(String(services.kafka!.environment!.KAFKA_PROCESS_ROLES)).toBe('broker,controller');
    expect(Object.keys(services.kafka!.environment!).some((k) => k.includes('ZOOKEEPER'))).toBe(false);
    expect(services.postgres!.image).toMatch(/^postgres:\d+/);
    expect(services['otel-collector']!.image).toMatch(/^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
    expect(services.shekara!.build).toBeDefined();
  });

  it('the gateway waits for healthy Kafka and PostgreSQL, and has a readiness healthcheck of its own', () => {
    expect(services.shekara!.depends_on).toEqual({
      kafka: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
      // The collector image has no shell to run a healthcheck in; losing telemetry must not stop ingest.
      'otel-collector': { condition: 'service_started' },
    });
    expect(services.kafka!.healthcheck!.test.join(' ')).toContain('kafka-topics.sh --bootstrap-server localhost:9092');
    expect(services.postgres!.healthcheck!.test.join(' ')).toContain('pg_isready -U shekara -d shekara');
    expect(services.shekara!.healthcheck!.test.join(' ')).toContain(
      `http://127.0.0.1:${rawComposeConfig.http.port}/readyz`,
    );
    // SIGTERM drains within shutdownTimeoutMs; compose must wait longer before SIGKILL.
    expect(Number.parseInt(services.shekara!.stop_grace_period!, 10) * 1000).toBeGreaterThan(
      rawComposeConfig.shutdownTimeoutMs,
    );
  });

  it('every named volume is declared, data lives on volumes, and every bind-mounted file exists', () => {
    const mounts = Object.entries(services).flatMap(([name, s]) =>
      (s.volumes ?? []).map((v) => ({ name, src: v.split(':')[0]!, dst: v.split(':')[1]! })),
    );
    for (const m of mounts.filter((x) => !x.src.startsWith('.')))
      expect(Object.keys(compose.volumes), m.src).toContain(m.src);
    for (const m of mounts.filter((x) => x.src.startsWith('.')))
      expect(existsSync(path.join('deploy/docker', m.src)), m.src).toBe(true);
    const volumeAt = (svc: string, dst: string) => mounts.find((m) => m.name === svc && m.dst === dst)?.src;
    expect(volumeAt('postgres', '/var/lib/postgresql/data')).toBe('postgres-data');
    // apache/kafka writes to /tmp/kraft-combined-logs unless told otherwise: the volume must be where the logs go.
    expect(volumeAt('kafka', String(services.kafka!.environment!.KAFKA_LOG_DIRS))).toBe('kafka-data');
    expect(volumeAt('otel-collector', '/etc/otelcol-contrib/config.yaml')).toBe('./otel-collector.yaml');
    expect(services['otel-collector']!.command).toEqual(['--config=/etc/otelcol-contrib/config.yaml']);
  });

  it('the gateway config reaches Kafka, PostgreSQL and the collector by their compose service names and ports', () => {
    const hostPort = (url: string) => {
      const u = new URL(url);
      return `${u.hostname}:${u.port}`;
    };
    // Kafka: the brokers the gateway dials are what the broker advertises.
    const advertised = String(services.kafka!.environment!.KAFKA_ADVERTISED_LISTENERS)
      .split(',')
      .map((l) => l.replace(/^\w+:\/\//, ''));
    expect(rawComposeConfig.egress.queue.kind).toBe('kafka');
    for (const b of rawComposeConfig.egress.queue.kafka.brokers) expect(advertised).toContain(b);
    // PostgreSQL: the URL comes from the environment (it holds the password), never from the file.
    expect(rawComposeConfig.store).toMatchObject({ kind: 'postgres' });
    expect(rawComposeConfig.store.url).toBeUndefined();
    const store = new URL(gatewayEnv.SHEKARA_STORE_URL!);
    expect({
      host: store.hostname,
      port: store.port,
      user: store.username,
      db: store.pathname,
      password: store.password,
    }).toEqual({
      host: 'postgres',
      port: '5432',
      user: String(services.postgres!.environment!.POSTGRES_USER),
      db: `/${services.postgres!.environment!.POSTGRES_DB}`,
      password: 'compose-check',
    });
    expect(services.postgres!.environment!.POSTGRES_PASSWORD).toMatch(/^\$\{SHEKARA_PG_PASSWORD:\?/);
    // The collector: the gateway's OTLP endpoints are where the collector's OTLP/HTTP receiver listens.
    const otel = parse(readFileSync('deploy/docker/otel-collector.yaml', 'utf8')) as Record<string, any>;
    const receiverPort = otel.receivers.otlp.protocols.http.endpoint.split(':')[1];
    for (const url of [rawComposeConfig.telemetry.tracing.otlpUrl, rawComposeConfig.telemetry.metrics.otlpUrl]) {
      expect(hostPort(url)).toBe(`otel-collector:${receiverPort}`);
    }
    expect(rawComposeConfig.telemetry.tracing.enabled).toBe(true);
  });

  it('the collector receives OTLP and exposes Prometheus on a published port, every pipeline part defined', () => {
    const otel = parse(readFileSync('deploy/docker/otel-collector.yaml', 'utf8')) as Record<string, any>;
    expect(Object.keys(otel.receivers.otlp.protocols).sort()).toEqual(['grpc', 'http']);
    const promPort = otel.exporters.prometheus.endpoint.split(':')[1];
    expect(services['otel-collector']!.ports).toContain(`127.0.0.1:${promPort}:${promPort}`);
    expect(otel.service.pipelines.metrics.exporters).toContain('prometheus');
    expect(otel.service.pipelines.metrics.receivers).toContain('otlp');
    expect(otel.service.pipelines.traces.receivers).toContain('otlp');
    for (const [name, p] of Object.entries(otel.service.pipelines as Record<string, Record<string, string[]>>)) {
      for (const part of ['receivers', 'processors', 'exporters'] as const) {
        for (const id of p[part] ?? []) expect(Object.keys(otel[part]), `${name}.${part}: ${id}`).toContain(id);
      }
    }
    for (const ext of otel.service.extensions ?? []) expect(Object.keys(otel.extensions)).toContain(ext);
  });

  it('the unit starts the same command the README documents', async () => {
    const unit = readFileSync('deploy/systemd/shekara.service', 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/shekara\/bin\/shekara\.js start$/m);
    const help = await shekaraBinary('start', '--help');
    expect(help.stdout).toContain('SHEKARA_CONFIG');
  });
});
