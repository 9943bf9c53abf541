/**
 * The shipped EMQX 5 configuration (deploy/brokers/emqx/emqx.conf) and Shekara's HTTP
 * authentication and authorization endpoint it points at.
 *
 * No EMQX broker can be run on this machine (not packaged in Debian, npm or Maven Central), so:
 *  1. the file is parsed (HOCON, the subset it uses) and checked against the fields and values
 *     of EMQX 5's configuration manual (docs.emqx.com/en/emqx/v5.8/hocon: listeners, zones,
 *     authentication `password_based`/`http`, authorization `sources`/`no_match`/`deny_action`/
 *     `cache`, mqtt) — every key must be one the manual documents, and the security-relevant
 *     values must be the ones the threat model needs;
 *  2. its request templates are rendered as EMQX renders them (`${clientid}` etc.) and sent, with
 *     its headers, to a running Shekara (real HTTP): the answers enforce client id = username =
 *     VIN or certificate CN = VIN, own topics only, no `$share` for cars, and follow the registry
 *     (a car rotated or revoked, a car written to the store as the CLI does) at once.
 * This is not a test against EMQX itself; docs/external-broker.md says so.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/ingest/index.js';
import { parseConfig } from '../../src/config/load.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';

const FILE = path.resolve(import.meta.dirname, '../../deploy/brokers/emqx/emqx.conf');
const TOKEN = 'emqx-token-emqx-token-emqx-token';
const GATEWAY = { username: 'shekara-gateway', password: 'gateway-secret-gateway-secret' };

type Hocon = string | number | boolean | Hocon[] | { [k: string]: Hocon };

/** HOCON, the subset the shipped file uses: objects, arrays, quoted and bare values, dotted keys, # comments. */
function parseHocon(text: string): Record<string, Hocon> {
  const tokens = [...text.replace(/#.*$/gm, '').matchAll(/"(?:[^"\\]|\\.)*"|[{}[\]=,]|[^\s{}[\]=,"]+/g)].map(
    (m) => m[0],
  );
  let i = 0;
  const value = (): Hocon => {
    const t = tokens[i++]!;
    if (t === '{') return object('}');
    if (t === '[') {
      const out: Hocon[] = [];
      while (tokens[i] !== ']') {
        out.push(value());
        if (tokens[i] === ',') i++;
      }
      i++;
      return out;
    }
    if (t.startsWith('"')) return JSON.parse(t) as string;
    if (/^-?\d+$/.test(t)) return Number(t);
    return t === 'true' ? true : t === 'false' ? false : t;
  };
  const object = (end: string | undefined): Record<string, Hocon> => {
    const out: Record<string, Hocon> = {};
    while (i < tokens.length && tokens[i] !== end) {
      const key = tokens[i++]!;
      if (tokens[i] === '=') i++;
      const parts = (key.startsWith('"') ? [JSON.parse(key) as string] : key.split('.')).filter(Boolean);
      let at = out;
      for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, Hocon>;
      const v = value();
      const last = parts.at(-1)!;
      at[last] =
        typeof v === 'object' && !Array.isArray(v) && typeof at[last] === 'object'
          ? { ...(at[last] as object), ...v }
          : v;
      if (tokens[i] === ',') i++;
    }
    i++;
    return out;
  };
  return object(undefined);
}

/** The HTTP request fields shared by EMQX's HTTP authenticator and HTTP authorization source. */
const HTTP_REQUEST = [
  'enable',
  'method',
  'url',
  'headers',
  'body',
  'request_timeout',
  'pool_size',
  'connect_timeout',
  'enable_pipelining',
  'ssl',
];
/** Fields of EMQX 5's configuration manual used by the shipped file, per place (`*` = any name). */
const DOCUMENTED: Record<string, readonly string[]> = {
  '': ['listeners', 'zones', 'authentication', 'authorization', 'mqtt'],
  listeners: ['tcp', 'ssl', 'ws', 'wss', 'quic'],
  'listeners.tcp.*': ['enable', 'bind', 'acceptors', 'max_connections', 'mountpoint', 'zone', 'enable_authn'],
  'listeners.ssl.*': [
    'enable',
    'bind',
    'acceptors',
    'max_connections',
    'mountpoint',
    'zone',
    'enable_authn',
    'ssl_options',
  ],
  'listeners.ssl.*.ssl_options': [
    'cacertfile',
    'certfile',
    'keyfile',
    'verify',
    'fail_if_no_peer_cert',
    'versions',
    'ciphers',
  ],
  'zones.*': ['mqtt', 'force_shutdown', 'force_gc', 'flapping_detect', 'durable_sessions'],
  'zones.*.mqtt': [
    'peer_cert_as_username',
    'peer_cert_as_clientid',
    'max_packet_size',
    'max_inflight',
    'max_mqueue_len',
  ],
  'authentication[]': ['mechanism', 'backend', ...HTTP_REQUEST],
  authorization: ['no_match', 'deny_action', 'cache', 'sources'],
  'authorization.cache': ['enable', 'max_size', 'ttl', 'excludes'],
  'authorization.sources[]': ['type', ...HTTP_REQUEST],
  mqtt: [
    'max_packet_size',
    'max_inflight',
    'max_mqueue_len',
    'mqueue_store_qos0',
    'peer_cert_as_username',
    'peer_cert_as_clientid',
  ],
};
/** Values the manual enumerates, for the fields that have an enumeration. */
const ENUMS: Record<string, readonly Hocon[]> = {
  verify: ['verify_peer', 'verify_none'],
  peer_cert_as_username: ['disabled', 'cn', 'dn', 'crt', 'pem', 'md5'],
  peer_cert_as_clientid: ['disabled', 'cn', 'dn', 'crt', 'pem', 'md5'],
  mechanism: ['password_based', 'jwt', 'scram', 'gcp_device', 'cinfo'],
  method: ['get', 'post'],
  no_match: ['allow', 'deny'],
  deny_action: ['ignore', 'disconnect'],
};

/** Every key not documented at its place, as `place: key`; and enum values out of range. */
function undocumented(conf: Record<string, Hocon>): string[] {
  const problems: string[] = [];
  // Maps whose keys are names the operator picks (a listener's, a zone's).
  const named = new Set(['listeners.tcp', 'listeners.ssl', 'zones']);
  const walk = (node: Hocon, place: string, exact: string) => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, `${place}[]`, `${exact}[]`));
    if (typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      const at = exact ? `${exact}.${k}` : k;
      if (named.has(place)) {
        walk(v, `${place}.*`, at);
        continue;
      }
      // Free-form maps: request headers and body templates.
      if (k === 'headers' || k === 'body') continue;
      const allowed = DOCUMENTED[place];
      if (!allowed) problems.push(`${exact}: no documented fields known here`);
      else if (!allowed.includes(k)) problems.push(`${exact}: ${k}`);
      if (ENUMS[k] && !ENUMS[k].includes(v)) problems.push(`${at} = ${String(v)}`);
      walk(v, place ? `${place}.${k}` : k, at);
    }
  };
  walk(conf, '', '');
  return problems;
}

const render = (template: Record<string, Hocon>, vars: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(template).map(([k, v]) => [
      k,
      String(v).replace(/\$\{(\w+)\}/g, (_, name: string) => vars[name] ?? ''),
    ]),
  );

describe('shipped EMQX 5 configuration (checked against the documented schema; not run against EMQX)', () => {
  const conf = parseHocon(readFileSync(FILE, 'utf8'));
  const authn = (conf.authentication as Record<string, Hocon>[])[0]!;
  const authzConf = conf.authorization as Record<string, Hocon>;
  const authzSource = (authzConf.sources as Record<string, Hocon>[])[0]!;

  it("Shekara's config refuses emqx-http without a token of 24 characters or without the gateway account", () => {
    const problems = (external: string) => {
      try {
        parseConfig(`mqtt:\n  mode: external\n  external:\n${external}`, 'shekara.yaml', '/etc/shekara', { env: {} });
        return [];
      } catch (err) {
        return (err as { details?: { problems?: string[] } }).details?.problems ?? [String(err)];
      }
    };
    const sync = (token: string) => `    credentialSync: { kind: emqx-http, password: ${token} }\n`;
    const account = `    username: gw\n    password: ${GATEWAY.password}\n`;
    expect(problems(`    url: mqtt://b:1884\n${account}${sync(TOKEN)}`)).toEqual([]);
    expect(problems(`    url: mqtt://b:1884\n${account}${sync('short')}`)).toEqual([
      'mqtt.external.credentialSync.password: the token EMQX presents, at least 24 characters',
    ]);
    expect(problems(`    url: mqtt://b:1884\n${sync(TOKEN)}`)).toEqual([
      'mqtt.external.username/password: the gateway account EMQX authenticates (emqx-http)',
    ]);
  });

  it('uses only fields and values EMQX 5 documents', () => {
    expect(undocumented(conf)).toEqual([]);
  });

  it('fails closed: one HTTP authenticator, one HTTP authorization source, no match = deny, refusals disconnect', () => {
    expect(conf.authentication).toHaveLength(1);
    expect(authn).toMatchObject({ mechanism: 'password_based', backend: 'http', method: 'post', enable: true });
    expect(authzConf).toMatchObject({ no_match: 'deny', deny_action: 'disconnect' });
    expect(authzConf.sources).toHaveLength(1);
    expect(authzSource).toMatchObject({ type: 'http', method: 'post', enable: true });
    expect(render(authn.body as Record<string, Hocon>, {})).toEqual({
      clientid: '',
      username: '',
      password: '',
      cert_common_name: '',
    });
    const listeners = conf.listeners as Record<string, Record<string, Record<string, Hocon>>>;
    expect(listeners.tcp!.default).toMatchObject({ enable: false });
    // The certificate listener requires a certificate and takes its CN as username and client id.
    const certs = listeners.ssl!['vehicles-cert']!;
    expect(certs.ssl_options).toMatchObject({ verify: 'verify_peer', fail_if_no_peer_cert: true });
    const zone = (conf.zones as Record<string, Record<string, Hocon>>)[certs.zone as string]!;
    expect(zone.mqtt).toEqual({ peer_cert_as_username: 'cn', peer_cert_as_clientid: 'cn' });
  });

  describe("answers Shekara gives to the file's requests", () => {
    let mosq: TestMosquitto;
    let gw: TestGateway;
    let base: string;
    const ask = async (which: 'authn' | 'authz', vars: Record<string, string>, token = TOKEN) => {
      const c = which === 'authn' ? authn : authzSource;
      const headers = Object.fromEntries(
        Object.entries(c.headers as Record<string, string>).map(([k, v]) => [
          k,
          v.replace('CHANGE-ME-shekara-broker-token', token),
        ]),
      );
      const res = await fetch(`${base}${new URL(c.url as string).pathname}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(render(c.body as Record<string, Hocon>, vars)),
      });
      // EMQX: only 200/204 count; anything else is "ignore", i.e. refused here (fail closed).
      return res.status === 200 ? ((await res.json()) as { result: string }).result : `http ${res.status}`;
    };

    beforeAll(async () => {
      mosq = await startMosquitto();
      gw = await startTestGateway({
        cars: 2,
        config: {
          mqtt: {
            mode: 'external',
            external: {
              url: mosq.url,
              ...GATEWAY,
              connections: 1,
              clientIdPrefix: 'shk-emqx',
              credentialSync: { kind: 'emqx-http', password: TOKEN },
            },
          },
        },
      });
      base = `http://127.0.0.1:${gw.app.httpPort}`;
    }, 60_000);
    afterAll(async () => {
      await gw?.stop();
      await mosq?.stop();
    });

    it('authenticates a car as its VIN only (secret, or certificate CN), and the gateway account', async () => {
      const [a, b] = gw.cars as [{ vin: string; secret: string }, { vin: string; secret: string }];
      const car = (clientid: string, username: string, password: string, cn = '') =>
        ask('authn', { clientid, username, password, cert_common_name: cn });
      expect(await car(a.vin, a.vin, a.secret)).toBe('allow');
      expect(await car(a.vin, a.vin, b.secret)).toBe('deny');
      expect(await car(b.vin, a.vin, a.secret)).toBe('deny'); // D3: another car's client id
      expect(await car(a.vin, a.vin, '', a.vin)).toBe('allow'); // D4: certificate only
      expect(await car(a.vin, a.vin, '', b.vin)).toBe('deny');
      expect(await car('LSHKZ000000000099', 'LSHKZ000000000099', 'x'.repeat(30))).toBe('deny');
      expect(await car('shk-emqx-0', GATEWAY.username, GATEWAY.password)).toBe('allow');
      expect(await car('shk-emqx-0', GATEWAY.username, 'wrong')).toBe('deny');
      expect(await ask('authn', { clientid: a.vin, username: a.vin, password: a.secret }, 'wrong-token')).toBe(
        'http 401',
      );
    });

    it('lets a car publish its own telemetry and acks and subscribe its own commands; nothing else, no $share', async () => {
      const [a, b] = gw.cars as unknown as [{ vin: string }, { vin: string }];
      const may = (username: string, action: string, topic: string, clientid = username) =>
        ask('authz', { clientid, username, action, topic });
      expect(await may(a.vin, 'publish', `vehicles/${a.vin}/telemetry`)).toBe('allow');
      expect(await may(a.vin, 'publish', `vehicles/${a.vin}/commands/ack`)).toBe('allow');
      expect(await may(a.vin, 'subscribe', `vehicles/${a.vin}/commands`)).toBe('allow');
      expect(await may(a.vin, 'publish', `vehicles/${b.vin}/telemetry`)).toBe('deny');
      expect(await may(a.vin, 'subscribe', `vehicles/${b.vin}/commands`)).toBe('deny');
      expect(await may(a.vin, 'subscribe', '$share/shekara/vehicles/+/telemetry')).toBe('deny'); // D2
      expect(await may(a.vin, 'subscribe', 'vehicles/+/telemetry')).toBe('deny');
      expect(await may(a.vin, 'publish', `vehicles/${a.vin}/telemetry`, b.vin)).toBe('deny');
      expect(await may(GATEWAY.username, 'subscribe', '$share/shekara/vehicles/+/telemetry', 'shk-emqx-0')).toBe(
        'allow',
      );
      expect(await may(GATEWAY.username, 'publish', `vehicles/${a.vin}/commands`, 'shk-emqx-0')).toBe('allow');
      expect(await may(GATEWAY.username, 'publish', `vehicles/${a.vin}/telemetry`, 'shk-emqx-0')).toBe('deny');
    });

    it('follows the registry at once: rotated secret, revoked car, newly registered car', async () => {
      const a = gw.cars[0]!;
      const rotated = await gw.app.admin.vehicles.rotate(a.vin, {}, 'test');
      expect(await ask('authn', { clientid: a.vin, username: a.vin, password: a.secret })).toBe('deny');
      expect(await ask('authn', { clientid: a.vin, username: a.vin, password: rotated.secret })).toBe('allow');
      await gw.app.admin.vehicles.revoke(a.vin, 'test');
      expect(await ask('authn', { clientid: a.vin, username: a.vin, password: rotated.secret })).toBe('deny');
      expect(await ask('authn', { clientid: a.vin, username: a.vin, cert_common_name: a.vin })).toBe('deny');
      expect(
        await ask('authz', {
          clientid: a.vin,
          username: a.vin,
          action: 'publish',
          topic: `vehicles/${a.vin}/telemetry`,
        }),
      ).toBe('deny');
      const vin = 'LEMXA000000000042';
      // Registered in the store, as the CLI does: nothing is pushed anywhere, and it is known at once.
      await gw.app.store.registerVehicle({ vin, oem: 'demo-oem', ...hashSecret('s'.repeat(30)) });
      expect(await ask('authn', { clientid: vin, username: vin, password: 's'.repeat(30) })).toBe('allow');
    });
  });
});
