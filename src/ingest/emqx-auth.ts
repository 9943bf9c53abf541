/**
 * EMQX 5 in front of Shekara (deploy/brokers/emqx/emqx.conf): EMQX asks Shekara over HTTP who
 * may connect (authentication) and what each client may do (authorization), and Shekara answers
 * from its vehicle registry on every question. Nothing is copied to the broker, so a car added,
 * rotated or revoked through any door (admin API, CLI) counts at the next question — there is
 * nothing to keep in sync. Within EMQX's authorization cache (ttl in the shipped config) a
 * connected car keeps its last answers; `deny_action = disconnect` cuts a revoked car off at
 * its next refused publish.
 *
 * The rules (the same as the shipped Mosquitto configuration, src/ingest/dynsec.ts):
 *  - a car is its VIN: client id = username = VIN with its secret, or a client certificate
 *    whose CN is the VIN (the listener maps the CN to username and client id);
 *  - a car publishes only `vehicles/{VIN}/telemetry` and `…/commands/ack`, subscribes only to
 *    `vehicles/{VIN}/commands`; nothing else, in particular never `$share/…`;
 *  - only the gateway account joins `$share/{group}/…` and publishes commands.
 * EMQX treats a non-2xx answer as "ignore"; with no other authenticator and `no_match = deny`,
 * a Shekara that cannot answer means refused (fail closed).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { VehicleRow } from '../store/index.js';
import { vehicleSecretMatches, VIN_RE } from './credentials.js';
import { ShekaraError } from '../errors.js';

export const EMQX_AUTHN_PATH = '/broker/v1/emqx/authn';
export const EMQX_AUTHZ_PATH = '/broker/v1/emqx/authz';

export interface EmqxAuthConfig {
  /** The bearer token EMQX presents (mqtt.external.credentialSync.password). */
  readonly token: string;
  readonly group: string;
  readonly gatewayUsername: string;
  readonly gatewayPassword: string;
}

type Verdict = { result: 'allow' | 'deny'; is_superuser?: false };
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const same = (a: string, b: string) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
};

export function registerEmqxAuth(
  app: FastifyInstance,
  cfg: EmqxAuthConfig,
  deps: { lookupVehicle: (vin: string) => Promise<VehicleRow | undefined> },
): void {
  const bearer = `Bearer ${cfg.token}`;
  const g = cfg.group;
  const gatewaySubscribes = new Set([
    `$share/${g}/vehicles/+/telemetry`,
    `$share/${g}/vehicles/+/commands/ack`,
    // Some EMQX versions check a shared subscription's topic without its `$share/{group}/` prefix.
    'vehicles/+/telemetry',
    'vehicles/+/commands/ack',
  ]);
  const COMMAND = /^vehicles\/([^/]+)\/commands$/;

  /** A registered, unrevoked car that is its VIN on every identity field EMQX gives. */
  const car = async (clientid: string, username: string): Promise<VehicleRow | undefined> =>
    VIN_RE.test(username) && clientid === username ? deps.lookupVehicle(username) : undefined;

  const authn = async (b: Record<string, unknown>): Promise<Verdict> => {
    const [clientid, username, password, cn] = [
      str(b.clientid),
      str(b.username),
      str(b.password),
      str(b.cert_common_name),
    ];
    if (username === cfg.gatewayUsername) return { result: same(password, cfg.gatewayPassword) ? 'allow' : 'deny' };
    // A verified certificate: its CN is the VIN, and the listener made it the username and client id.
    if (cn !== '') return { result: cn === username && (await car(clientid, username)) ? 'allow' : 'deny' };
    const v = await car(clientid, username);
    return { result: vehicleSecretMatches(v, password) ? 'allow' : 'deny' };
  };

  const authz = async (b: Record<string, unknown>): Promise<Verdict> => {
    const [clientid, username, topic, action] = [str(b.clientid), str(b.username), str(b.topic), str(b.action)];
    if (username === cfg.gatewayUsername) {
      if (action === 'subscribe') return { result: gatewaySubscribes.has(topic) ? 'allow' : 'deny' };
      const vin = COMMAND.exec(topic)?.[1];
      return { result: action === 'publish' && vin !== undefined && VIN_RE.test(vin) ? 'allow' : 'deny' };
    }
    const v = await car(clientid, username);
    if (!v) return { result: 'deny' };
    const own =
      action === 'publish'
        ? topic === `vehicles/${v.vin}/telemetry` || topic === `vehicles/${v.vin}/commands/ack`
        : action === 'subscribe' && topic === `vehicles/${v.vin}/commands`;
    return { result: own ? 'allow' : 'deny' };
  };

  app.register(async (scope) => {
    scope.addHook('onRequest', async (req) => {
      if (!same(req.headers.authorization ?? '', bearer))
        throw new ShekaraError('SHK_AUTH_REQUIRED', 'the broker token is missing or wrong');
    });
    const body = (req: { body: unknown }) =>
      req.body !== null && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    scope.post(EMQX_AUTHN_PATH, async (req) => ({ ...(await authn(body(req))), is_superuser: false }));
    scope.post(EMQX_AUTHZ_PATH, async (req) => authz(body(req)));
  });
}
