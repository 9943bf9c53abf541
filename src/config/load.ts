/**
 * Loads, validates and freezes the config exactly once. Errors name the file, line and key
 * path with the reason, so an operator can fix the file without reading code.
 */
import { parseCidr } from '../ingest/gbt32960/allow.js';
import { catalogProblems } from '../catalog/index.js';
import path from 'node:path';
import {
  describeSchemaErrors,
  parseYamlSource,
  readSourceFile,
  YamlSyntaxError,
  type YamlSource,
} from '../yaml-source.js';
import type { Config } from './schema.js';
// ConfigSchema, compiled ahead of time by Ajv (scripts/gen-validators.ts holds the options):
// compiling it at import cost every command, gateway start and test file ~250 ms of CPU.
import { validate as validateConfig } from './validate-config.generated.js';
import { ShekaraError } from '../errors.js';

/** Environment variables that may override a config value, and where each lands. */
export const ENV_OVERRIDES = {
  SHEKARA_MQTT_PORT: ['mqtt', 'port'],
  SHEKARA_HTTP_PORT: ['http', 'port'],
  SHEKARA_MQTTS_PORT: ['mqtt', 'tls', 'port'],
  SHEKARA_DATA_DIR: ['dataDir'],
  SHEKARA_LOG_LEVEL: ['log', 'level'],
  /** Keeps the database password out of the config file; implies `store.kind: postgres`. */
  SHEKARA_STORE_URL: ['store', 'url'],
} as const satisfies Record<string, readonly string[]>;

export interface LoadOptions {
  env?: Record<string, string | undefined>;
}

/** Read a YAML config file. `file` undefined means "all defaults" (no OEMs). */
export function loadConfigFile(file: string | undefined, opts: LoadOptions = {}): Readonly<Config> {
  if (file === undefined) return parseConfig('', '<defaults>', process.cwd(), opts);
  return parseConfig(readSourceFile(file, 'config'), file, path.dirname(path.resolve(file)), opts);
}

/** Parse and validate config text. `baseDir` anchors relative paths in the file. */
export function parseConfig(text: string, source: string, baseDir: string, opts: LoadOptions = {}): Readonly<Config> {
  let src: YamlSource;
  try {
    src = parseYamlSource(text, source);
  } catch (cause) {
    if (cause instanceof YamlSyntaxError) throw invalid(source, cause.message);
    throw cause;
  }
  const raw = src.data ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid(source, `${source}: the config must be a YAML mapping of keys to values`);
  }
  const data = raw as Record<string, unknown>;
  applyEnvOverrides(data, opts.env ?? process.env);
  defaultStoreKind(data, source);

  if (!validateConfig(data)) {
    const problems = describeSchemaErrors(validateConfig.errors ?? [], src);
    throw invalid(source, `invalid config ${source}:\n  ${problems.join('\n  ')}`, problems);
  }
  const cfg = data as unknown as Config;
  checkCrossFields(cfg, source);
  cfg.dataDir = path.resolve(baseDir, cfg.dataDir);
  cfg.keys.dir = cfg.keys.dir ? path.resolve(baseDir, cfg.keys.dir) : path.join(cfg.dataDir, 'keys');
  if (cfg.keys.kekFile) cfg.keys.kekFile = path.resolve(baseDir, cfg.keys.kekFile);
  for (const oem of cfg.oems) oem.policyFile = path.resolve(baseDir, oem.policyFile);
  for (const oem of cfg.oems) {
    if (oem.signingKeyFile) oem.signingKeyFile = path.resolve(baseDir, oem.signingKeyFile);
    if (oem.mtls) {
      oem.mtls.certFile = path.resolve(baseDir, oem.mtls.certFile);
      oem.mtls.keyFile = path.resolve(baseDir, oem.mtls.keyFile);
      if (oem.mtls.caFile) oem.mtls.caFile = path.resolve(baseDir, oem.mtls.caFile);
    }
  }
  for (const tls of [cfg.http.tls, cfg.mqtt.tls, cfg.gbt32960.tls] as Record<string, unknown>[]) {
    for (const key of ['certFile', 'keyFile', 'clientCaFile', 'crlFile']) {
      if (typeof tls[key] === 'string') tls[key] = path.resolve(baseDir, tls[key]);
    }
  }
  return deepFreeze(cfg);
}

function applyEnvOverrides(data: Record<string, unknown>, env: Record<string, string | undefined>): void {
  for (const [name, keyPath] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let target = data;
    for (const key of keyPath.slice(0, -1)) {
      const next = target[key];
      if (next === undefined || next === null) target[key] = {};
      else if (typeof next !== 'object')
        throw invalid('env', `${name} overrides ${keyPath.join('.')}, but that key is not a mapping in the file`);
      target = target[key] as Record<string, unknown>;
    }
    const leaf = keyPath[keyPath.length - 1]!;
    if (leaf === 'port') {
      if (!/^\d+$/.test(value)) throw invalid('env', `${name}=${value}: must be a port number 0-65535`);
      target[leaf] = Number(value);
    } else {
      target[leaf] = value;
    }
  }
}

/** `store.kind` may be left out: postgres when a URL is given (file or SHEKARA_STORE_URL), else sqlite. */
function defaultStoreKind(data: Record<string, unknown>, source: string): void {
  const store = data.store;
  if (store === undefined || store === null) {
    data.store = { kind: 'sqlite' };
    return;
  }
  if (typeof store !== 'object' || Array.isArray(store)) return; // the schema names the problem
  const s = store as Record<string, unknown>;
  if (s.kind === undefined) s.kind = s.url === undefined ? 'sqlite' : 'postgres';
  if (s.kind === 'sqlite' && s.url !== undefined) {
    throw invalid(
      source,
      `invalid config ${source}:\n  store.url: a URL is given (in the file or SHEKARA_STORE_URL) but store.kind is "sqlite"; set store.kind: postgres or drop the URL`,
    );
  }
}

function checkCrossFields(cfg: Config, source: string): void {
  const problems: string[] = catalogProblems(cfg.catalog);
  if (cfg.store.kind === 'postgres') {
    try {
      const u = new URL(cfg.store.url);
      if (!u.hostname && !u.searchParams.get('host')) problems.push('store.url: names no host');
    } catch {
      // The URL itself is not repeated: it may hold a password.
      problems.push('store.url: not a valid URL (postgres://user@host:5432/database)');
    }
  }
  const sync = cfg.mqtt.external.credentialSync;
  if (sync.kind === 'mosquitto-dynsec' && (!sync.username || !sync.password))
    problems.push('mqtt.external.credentialSync: a broker admin username and password are needed to sync credentials');
  if (sync.kind === 'emqx-http' && (sync.password ?? '').length < 24)
    problems.push('mqtt.external.credentialSync.password: the token EMQX presents, at least 24 characters');
  if (sync.kind === 'emqx-http' && (!cfg.mqtt.external.username || !cfg.mqtt.external.password))
    problems.push('mqtt.external.username/password: the gateway account EMQX authenticates (emqx-http)');
  if (cfg.limits.keepaliveMinSeconds > cfg.limits.keepaliveMaxSeconds) {
    problems.push('limits.keepaliveMinSeconds: must not exceed limits.keepaliveMaxSeconds');
  }
  if (cfg.egress.initialBackoffMs > cfg.egress.maxBackoffMs) {
    problems.push('egress.initialBackoffMs: must not exceed egress.maxBackoffMs');
  }
  const { maxBacklogAgeSeconds: pushbackAge, backlog } = cfg.egress;
  if (pushbackAge > 0 && backlog.warnAgeSeconds >= pushbackAge) {
    problems.push(
      `egress.backlog.warnAgeSeconds: ${backlog.warnAgeSeconds} must be below egress.maxBacklogAgeSeconds (${pushbackAge}): the warning comes before ingest is pushed back`,
    );
  }
  const seen = new Set<string>();
  cfg.oems.forEach((oem, i) => {
    if (oem.mtls && !oem.endpoint.startsWith('https://'))
      problems.push(`oems.${i}.mtls: a client certificate needs an https:// endpoint`);
    if (seen.has(oem.id)) problems.push(`oems.${i}.id: duplicate OEM id "${oem.id}"`);
    seen.add(oem.id);
  });
  if (cfg.http.tls.enabled && !(cfg.http.tls.certFile && cfg.http.tls.keyFile)) {
    problems.push('http.tls: enabled needs both certFile and keyFile');
  }
  if (cfg.mqtt.tls.enabled && !(cfg.mqtt.tls.certFile && cfg.mqtt.tls.keyFile)) {
    problems.push('mqtt.tls: enabled needs both certFile and keyFile');
  }
  if (cfg.mqtt.tls.crlFile && !cfg.mqtt.tls.clientCaFile) {
    problems.push(
      'mqtt.tls.crlFile: needs mqtt.tls.clientCaFile (a revocation list only matters for client certificates)',
    );
  }
  if (cfg.mqtt.port !== 0 && cfg.mqtt.port === cfg.http.port) {
    problems.push(`http.port: ${cfg.http.port} is also mqtt.port; each listener needs its own port`);
  }
  problems.push(...gbt32960Problems(cfg));
  const prom = cfg.telemetry.metrics.prometheus;
  if (prom.enabled && prom.port !== 0 && (prom.port === cfg.http.port || prom.port === cfg.mqtt.port)) {
    problems.push(
      `telemetry.metrics.prometheus.port: ${prom.port} is also ${prom.port === cfg.http.port ? 'http.port' : 'mqtt.port'}; metrics get their own listener`,
    );
  }
  if (problems.length > 0) throw invalid(source, `invalid config ${source}:\n  ${problems.join('\n  ')}`, problems);
}

/** Deny by default: a GB/T 32960 listener only with a way to bind a connection to its VIN. */
function gbt32960Problems(cfg: Config): string[] {
  const g = cfg.gbt32960;
  const out: string[] = [];
  if (!g.enabled) return out;
  if (!g.tls.enabled && !g.tcp.enabled) out.push('gbt32960: enabled needs tls.enabled or tcp.enabled');
  if (g.tls.enabled && !(g.tls.certFile && g.tls.keyFile && g.tls.clientCaFile))
    out.push(
      'gbt32960.tls: enabled needs certFile, keyFile and clientCaFile (the vehicle certificate is the credential)',
    );
  if (g.tls.crlFile && !g.tls.clientCaFile) out.push('gbt32960.tls.crlFile: needs gbt32960.tls.clientCaFile');
  if (g.tcp.enabled && g.tcp.allowFrom.length === 0)
    out.push('gbt32960.tcp: enabled needs allowFrom (the networks cars connect from: plain TCP carries no credential)');
  g.tcp.allowFrom.forEach((a, i) => {
    if (!parseCidr(a)) out.push(`gbt32960.tcp.allowFrom.${i}: not an IP address or CIDR block`);
  });
  const ports = [
    ['http.port', cfg.http.port],
    ['mqtt.port', cfg.mqtt.port],
  ] as const;
  for (const [key, port] of [
    ['gbt32960.tcp.port', g.tcp.enabled ? g.tcp.port : 0],
    ['gbt32960.tls.port', g.tls.enabled ? g.tls.port : 0],
  ] as const)
    for (const [other, p] of ports)
      if (port !== 0 && port === p) out.push(`${key}: ${port} is also ${other}; each listener needs its own port`);
  return out;
}

function invalid(source: string, message: string, problems: string[] = [message]): ShekaraError {
  return new ShekaraError('SHK_CONFIG_INVALID', message, { details: { source, problems } });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
