import { buildApp } from '../app.js';
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../log.js';
import { describeStore } from '../store/index.js';
import type { Config } from '../config/schema.js';
import { cliIo } from './io.js';

/**
 * `shekara start`: commander calls it with the options (and the command, not wanted here). Runs
 * until SIGINT or SIGTERM has stopped the gateway, then resolves to the exit code.
 */
export async function startCommand(opts: { config?: string; role?: Config['role'] }): Promise<number> {
  return (await startGateway(opts, cliIo().stdout)).stopped;
}

export interface StartedGateway {
  close(): Promise<void>;
  /**
   * Resolves once SIGINT or SIGTERM has stopped the gateway: 0 closed cleanly, 1 the close
   * failed or outlasted shutdownTimeoutMs. After 1 the caller MUST end the process: what did not
   * close may never let it end (bin/shekara.js exits with any code but 0).
   */
  readonly stopped: Promise<number>;
}

/**
 * Starts the gateway, installs its signal handlers, then prints the banner on `out`. Resolves to
 * a handle for embedders (SIGTERM and SIGINT stop the gateway; tests close it themselves).
 */
export async function startGateway(
  opts: { config?: string; role?: Config['role'] },
  out: NodeJS.WritableStream,
): Promise<StartedGateway> {
  const loaded = loadConfigFile(opts.config, { env: cliIo().env });
  // commander checked the value against the same three roles the config schema allows.
  const config: Readonly<Config> = opts.role ? { ...loaded, role: opts.role } : loaded;
  const log = createLogger(config.log.level, cliIo().stderr);
  const app = await buildApp(config, { log });
  const oems = await app.store.listOems();
  const oemLine = (o: (typeof oems)[number]) => {
    const p = app.policy.policyOf(o.id);
    const state =
      o.disabledAt !== null ? 'disabled' : p ? `policy ${p.hash.slice(0, 19)}…` : 'no active policy: sends nothing';
    return `  OEM ${o.id.padEnd(10)} → ${o.endpoint}   ${state}${o.source === 'api' ? '   (admin API)' : ''}`;
  };

  const host = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
  const http = `${app.httpScheme}://${host(config.http.host)}:${app.httpPort}`;
  const lines = [
    '',
    'Shekara gateway is up.',
    `  Role           ${config.role}   deliveries: ${{ thread: 'in a worker thread', main: 'in the main thread', none: 'in other processes (--role egress)' }[app.egress.runsIn]}`,
    config.role === 'egress'
      ? '  MQTT ingest    none (--role egress)'
      : app.mqttPort !== undefined
        ? `  MQTT ingest    mqtt://${host(config.mqtt.host)}:${app.mqttPort}   topic vehicles/{VIN}/telemetry, username = VIN`
        : `  MQTT ingest    external broker ${config.mqtt.external.url}, shared group "${config.mqtt.external.group}"`,
    ...(app.mqttsPort !== undefined
      ? [
          `  MQTTS ingest   mqtts://${host(config.mqtt.tls.host)}:${app.mqttsPort}${config.mqtt.tls.clientCaFile ? '   (client certificates accepted: CN = VIN)' : ''}`,
        ]
      : []),
    config.role === 'egress'
      ? '  HTTPS ingest   none (--role egress)'
      : `  HTTPS ingest   POST ${http}/v1/vehicles/{VIN}/telemetry   (Basic auth: VIN + secret)`,
    ...(app.ingest.gbt32960Port !== undefined
      ? [
          `  GB/T 32960     tcp://${host(config.gbt32960.tcp.host)}:${app.ingest.gbt32960Port}   (from ${config.gbt32960.tcp.allowFrom.join(', ')} only)`,
        ]
      : []),
    ...(app.ingest.gbt32960TlsPort !== undefined
      ? [
          `  GB/T 32960 TLS tls://${host(config.gbt32960.tls.host)}:${app.ingest.gbt32960TlsPort}   (client certificate CN = VIN)`,
        ]
      : []),
    `  Health         ${http}/healthz   readiness ${http}/readyz`,
    ...(app.telemetry.metrics.prometheusPort !== undefined
      ? [
          `  Metrics        http://${host(config.telemetry.metrics.prometheus.host)}:${app.telemetry.metrics.prometheusPort}/metrics   (Prometheus; own listener)`,
        ]
      : []),
    ...(app.telemetry.tracing.enabled
      ? [
          `  Traces         OTLP → ${config.telemetry.tracing.otlpUrl ?? 'OTEL_EXPORTER_OTLP_* from the environment'}   (sample ratio ${config.telemetry.tracing.sampleRatio ?? 'OTEL_TRACES_SAMPLER'})`,
        ]
      : []),
    `  Local store    ${describeStore(config.store, config.dataDir)}`,
    `  Admin API      ${http}/admin/v1/openapi.json   (operator key: shekara apikey create --role operator)`,
    ...oems.map(oemLine),
    oems.length === 0 ? '  No OEMs registered: nothing will leave the country.' : '',
    '',
    'Try it (in two more terminals):',
    ...sinkHint(oems.map((o) => o.endpoint)),
    `  npx shekara simulate${opts.config ? ` -c ${opts.config}` : ''} --vehicles 10 --rate 20 --duration 30`,
    '',
  ];

  let stopping = false;
  let stoppedWith!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (stoppedWith = resolve));
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(
      { signal, timeoutMs: config.shutdownTimeoutMs },
      'shutting down: no new connections, draining what is in flight',
    );
    // Nothing acknowledged can be lost here: a PUBACK or 202 was only sent after its commit.
    // The bound is for deliveries in flight to the OEM, which resume from the outbox on restart.
    setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time; exiting');
      stoppedWith(1);
    }, config.shutdownTimeoutMs).unref();
    app.close().then(
      () => {
        log.info('stopped cleanly');
        stoppedWith(0);
      },
      (err) => {
        log.error({ err }, 'shutdown failed');
        stoppedWith(1);
      },
    );
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  const onHup = () => {
    log.info('SIGHUP: reloading TLS certificates and keys');
    app.reloadTls();
    // Policies: all or nothing; an invalid file leaves every previous version in force.
    app.policy.reload().then(
      (r) => {
        for (const c of r.changed)
          log.info(
            { oem: c.oem, from: c.from, policyHash: c.to, droppedHeld: c.droppedHeld },
            'SIGHUP: policy activated',
          );
        if (r.changed.length === 0) log.info({ oems: r.unchanged }, 'SIGHUP: policy files unchanged');
      },
      (err: unknown) => {
        log.error(
          {
            code: (err as { code?: string }).code,
            problems: (err as { details?: { problems?: unknown } }).details?.problems,
            reason: (err as Error).message,
          },
          'SIGHUP: policy reload refused; the previous versions stay in force',
        );
      },
    );
    // Device credentials rotated or revoked with the CLI: cut the connections that used them.
    app.ingest.recheckCredentials().then(
      (cut) => {
        if (cut > 0)
          log.info({ disconnected: cut }, 'SIGHUP: closed connections whose credentials were rotated or revoked');
      },
      (err: unknown) => log.error({ err }, "SIGHUP: could not re-check connected vehicles' credentials"),
    );
    // The OEM registry: what the CLI changed in the store (OEMs, activated policies) takes effect now.
    app.admin.sync().then(
      (problems) => {
        for (const p of problems)
          log.error(
            { oem: p.oem, code: (p.error as { code?: string }).code, reason: p.error.message },
            'SIGHUP: an OEM of the registry could not be applied; its previous state stays',
          );
        log.info('SIGHUP: OEM registry applied');
      },
      (err: unknown) => log.error({ err }, 'SIGHUP: applying the OEM registry failed'),
    );
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  // Stopped: the handlers go with the gateway (a process that runs on must not keep them).
  void stopped.then(() => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onHup);
  });

  // The banner last: whoever waits for it (an operator's script, a test) may signal the process
  // at once, and a signal that came before its handler would kill the gateway outright.
  out.write(lines.join('\n') + '\n');
  return { close: () => app.close(), stopped };
}

/**
 * The banner's `oem-sink` suggestion: the port of the first OEM endpoint on this machine (a sink
 * there receives what crosses), none when no OEM points here.
 */
export function sinkHint(endpoints: readonly string[]): string[] {
  for (const e of endpoints) {
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) continue;
    return [`  npx shekara oem-sink --port ${url.port || '80'}`];
  }
  return [];
}
