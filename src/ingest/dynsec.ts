/**
 * Credential sync with Mosquitto 2's dynamic security plugin: Shekara's vehicle registry is the
 * one source of truth, and Shekara drives the broker's clients and roles over the plugin's
 * control topic `$CONTROL/dynamic-security/v1` (Mosquitto docs, "Dynamic Security plugin").
 *
 * Why dynsec and not generated password/ACL files: Mosquitto's acl_file grants any SUBSCRIBE
 * and checks read access only at delivery, so a car could join Shekara's shared-subscription
 * group and swallow a share of every car's telemetry (interop review D2); dynsec refuses the
 * SUBSCRIBE itself (reason 0x87), pins a client id to a username (D3), and kicks a client
 * whose password changes or who is deleted — no reload.
 *
 * What Shekara writes:
 *  - default ACL access: deny publish, subscribe and receive for anyone without a role;
 *  - role `shekara-gateway` (the group's account): join `$share/{group}/…`, receive every car's
 *    telemetry and command acks, publish commands;
 *  - per car: role `v-{VIN}` (publish `vehicles/{VIN}/telemetry` and `…/commands/ack`,
 *    subscribe and receive `vehicles/{VIN}/commands`, nothing else — Mosquitto 2.0's dynsec
 *    does not expand %u, so the rule is literal) and client `{VIN}` with client id = VIN.
 * The plaintext secret exists only while an admin call registers or rotates it; the broker
 * hashes it. A client records, in its text description, which secret generation it holds
 * (`secretSetAt`), so a reconcile can tell a stale client and cut it off (fail closed).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { randomUUID } from 'node:crypto';
import type { VehicleRow } from '../store/index.js';
import { VIN_RE } from './credentials.js';
import type { Logger } from '../log.js';
import type { MqttExternalConfig } from '../config/schema.js';
import type { VehicleRef } from '../vehicle-ref.js';

const CONTROL = '$CONTROL/dynamic-security/v1';
const RESPONSE = `${CONTROL}/response`;
export const GATEWAY_ROLE = 'shekara-gateway';
const roleOf = (vin: string) => `v-${vin}`;
const STAMP = 'shekara secret set ';
const stampOf = (v: Pick<VehicleRow, 'secretSetAt'>) => `${STAMP}${new Date(v.secretSetAt).toISOString()}`;
/** The secret generation a client's description records; NaN when it records none. */
const stampTime = (text: string | undefined) => (text?.startsWith(STAMP) ? Date.parse(text.slice(STAMP.length)) : NaN);

export interface DynsecConfig {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** The shared-subscription group of the gateway account. */
  readonly group: string;
  /** The gateway's broker account (mqtt.external.username); given the gateway role. */
  readonly gatewayUsername?: string;
  readonly gatewayPassword?: string;
  readonly reconcileSeconds: number;
}

/** The credential sync of an external-broker config; undefined when it keeps none (kind `none`). */
export function dynsecConfigOf(ext: MqttExternalConfig): DynsecConfig | undefined {
  const sync = ext.credentialSync;
  if (sync.kind !== 'mosquitto-dynsec') return undefined;
  return {
    url: ext.url,
    username: sync.username!,
    password: sync.password!,
    group: ext.group,
    gatewayUsername: ext.username,
    gatewayPassword: ext.password,
    reconcileSeconds: sync.reconcileSeconds,
  };
}

type Command = Record<string, unknown> & { command: string };
interface Response {
  command: string;
  error?: string;
  data?: unknown;
  correlationData?: string;
}

/** What admin calls on the running gateway: each resolves once the broker applied it. */
export interface BrokerCredentials {
  /** A car registered or its secret rotated: the broker takes the new secret, drops the old one and the car's connections. */
  set(vehicle: VehicleRow, secret: string): Promise<void>;
  /** Revoked: the broker drops the client and its rights, and cuts its connections. */
  revoke(vin: string): Promise<void>;
  /** Brings the broker in line with the registry (revocations made elsewhere, stale secrets, removed cars). */
  reconcile(): Promise<{ cutOff: number; deleted: number; missing: number }>;
  close(): Promise<void>;
}

/**
 * `gateway`: sets the baseline (default deny, the gateway role and account), reconciles at
 * once and every reconcileSeconds. `change` (the CLI, one registry change): only the calls.
 */
export async function startDynsecSync(
  cfg: DynsecConfig,
  deps: { listVehicles: () => Promise<VehicleRow[]>; log: Logger; vehicleRef: VehicleRef },
  role: 'gateway' | 'change' = 'gateway',
): Promise<BrokerCredentials> {
  const log = deps.log.child({ module: 'dynsec' });
  const pending = new Map<string, (r: Response) => void>();
  // The gateway waits for the broker (and keeps reconnecting); one change fails at once.
  const client: MqttClient = await mqtt.connectAsync(
    cfg.url,
    {
      protocolVersion: 5,
      clientId: `shekara-dynsec-${randomUUID().slice(0, 8)}`,
      username: cfg.username,
      password: cfg.password,
      reconnectPeriod: role === 'gateway' ? 1_000 : 0,
      connectTimeout: 10_000,
    },
    role === 'gateway',
  );
  client.on('message', (_topic, payload) => {
    let responses: Response[] = [];
    try {
      responses = (JSON.parse(payload.toString('utf8')) as { responses?: Response[] }).responses ?? [];
    } catch {
      return;
    }
    for (const r of responses) {
      const done = r.correlationData ? pending.get(r.correlationData) : undefined;
      if (done) {
        pending.delete(r.correlationData!);
        done(r);
      }
    }
  });
  client.on('error', (err) => log.warn({ reason: err.message }, 'dynsec: control connection error'));
  await client.subscribeAsync(RESPONSE, { qos: 1 });

  /** Runs commands in one control message; resolves with each command's response, in order. */
  const run = async (commands: Command[]): Promise<Response[]> => {
    const tagged = commands.map((c) => ({ ...c, correlationData: randomUUID() }));
    const answers = tagged.map(
      (c) =>
        new Promise<Response>((resolve, reject) => {
          const t = setTimeout(() => {
            pending.delete(c.correlationData);
            reject(new Error(`dynsec: no answer to ${c.command} within 10 s`));
          }, 10_000);
          pending.set(c.correlationData, (r) => {
            clearTimeout(t);
            resolve(r);
          });
        }),
    );
    await client.publishAsync(CONTROL, JSON.stringify({ commands: tagged }), { qos: 1 });
    return Promise.all(answers);
  };
  /** Like run, but an error other than the tolerated ones (e.g. "already exists") throws. */
  const must = async (commands: Command[], tolerated: RegExp = /$^/): Promise<Response[]> => {
    const rs = await run(commands);
    const bad = rs.find((r) => r.error && !tolerated.test(r.error));
    if (bad) throw new Error(`dynsec: ${bad.command} failed: ${bad.error}`);
    return rs;
  };

  const vehicleRole = (vin: string): Command => ({
    command: 'createRole',
    rolename: roleOf(vin),
    acls: [
      { acltype: 'publishClientSend', topic: `vehicles/${vin}/telemetry`, allow: true },
      { acltype: 'publishClientSend', topic: `vehicles/${vin}/commands/ack`, allow: true },
      { acltype: 'subscribeLiteral', topic: `vehicles/${vin}/commands`, allow: true },
      { acltype: 'publishClientReceive', topic: `vehicles/${vin}/commands`, allow: true },
    ],
  });

  // The baseline: deny by default, and the gateway's own role. An existing role is left as it
  // is: changing a role makes Mosquitto kick its clients, i.e. every running instance.
  const g = cfg.group;
  if (role === 'gateway') await baseline();
  async function baseline() {
    await must(
      ['publishClientSend', 'publishClientReceive', 'subscribe'].map((acltype) => ({
        command: 'setDefaultACLAccess',
        acls: [{ acltype, allow: false }],
      })),
    );
    await must(
      [
        {
          command: 'createRole',
          rolename: GATEWAY_ROLE,
          acls: [
            { acltype: 'subscribeLiteral', topic: `$share/${g}/vehicles/+/telemetry`, allow: true },
            { acltype: 'subscribeLiteral', topic: `$share/${g}/vehicles/+/commands/ack`, allow: true },
            { acltype: 'publishClientReceive', topic: 'vehicles/+/telemetry', allow: true },
            { acltype: 'publishClientReceive', topic: 'vehicles/+/commands/ack', allow: true },
            { acltype: 'publishClientSend', topic: 'vehicles/+/commands', allow: true },
          ],
        },
      ],
      /already exists/i,
    );
    if (cfg.gatewayUsername) {
      await must(
        [
          {
            command: 'createClient',
            username: cfg.gatewayUsername,
            ...(cfg.gatewayPassword ? { password: cfg.gatewayPassword } : {}),
          },
        ],
        /already exists/i,
      );
      await must([{ command: 'addClientRole', username: cfg.gatewayUsername, rolename: GATEWAY_ROLE }], /already/i);
    }
  }

  /**
   * Deleting the client refuses its secret; deleting the car's role takes its rights, which is
   * what stops a certificate car (Mosquitto does not ask the plugin to authenticate a
   * certificate identity: the certificate still connects — to nothing). Both kick the car.
   * (Disabling instead left Mosquitto 2.0.11 unresponsive once such a car published.)
   */
  const cutOff = async (vin: string) => {
    await must([{ command: 'deleteClient', username: vin }], /not found/i);
    await must([{ command: 'deleteRole', rolename: roleOf(vin) }], /not found/i);
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  const sync: BrokerCredentials = {
    async set(vehicle, secret) {
      const vin = vehicle.vin;
      // Deleting first drops the old secret and cuts the car's connections (Mosquitto kicks a deleted client).
      await must([{ command: 'deleteClient', username: vin }], /not found/i);
      await must([vehicleRole(vin)], /already exists/i);
      await must([
        {
          command: 'createClient',
          username: vin,
          clientid: vin,
          password: secret,
          textdescription: stampOf(vehicle),
          roles: [{ rolename: roleOf(vin) }],
        },
      ]);
      log.info({ vehicle: deps.vehicleRef(vin) }, 'dynsec: broker credentials set');
    },
    async revoke(vin) {
      await cutOff(vin);
      log.info({ vehicle: deps.vehicleRef(vin) }, 'dynsec: broker client and rights removed (revoked)');
    },
    async reconcile() {
      // The registry is read first. A client whose secret is newer than that read was set
      // meanwhile (by the API or the CLI): it is judged against the registry read again.
      const vehicles = await deps.listVehicles();
      let reread: Map<string, VehicleRow> | undefined;
      const [listed] = await must([{ command: 'listClients', verbose: true }]);
      const clients = new Map(
        (
          (listed!.data as { clients?: { username: string; disabled?: boolean; textdescription?: string }[] })
            ?.clients ?? []
        )
          .filter((c) => VIN_RE.test(c.username))
          .map((c) => [c.username, c]),
      );
      const out = { cutOff: 0, deleted: 0, missing: 0 };
      for (const read of vehicles) {
        const c = clients.get(read.vin);
        clients.delete(read.vin);
        if (!c) {
          if (read.revokedAt === null) out.missing++;
          continue;
        }
        let v = read;
        if (stampTime(c.textdescription) > read.secretSetAt) {
          reread ??= new Map((await deps.listVehicles()).map((x) => [x.vin, x]));
          v = reread.get(read.vin) ?? read;
        }
        // Revoked here, or the broker holds an older secret than the registry: fail closed.
        if (v.revokedAt !== null || c.disabled || c.textdescription !== stampOf(v)) {
          await cutOff(v.vin);
          out.cutOff++;
        }
      }
      // VIN clients the registry no longer has (read again: a car registered meanwhile stays).
      if (clients.size > 0) reread ??= new Map((await deps.listVehicles()).map((x) => [x.vin, x]));
      for (const vin of clients.keys()) {
        if (reread?.has(vin)) continue;
        await must([{ command: 'deleteClient', username: vin }], /not found/i);
        await must([{ command: 'deleteRole', rolename: roleOf(vin) }], /not found/i);
        out.deleted++;
      }
      if (out.cutOff + out.deleted + out.missing > 0)
        log.warn(out, 'dynsec: reconciled the broker with the vehicle registry (missing cars need a secret rotation)');
      return out;
    },
    async close() {
      clearInterval(timer);
      await client.endAsync();
    },
  };

  if (role === 'change') return sync;
  await sync.reconcile();
  timer = setInterval(() => {
    sync.reconcile().catch((err: Error) => log.error({ reason: err.message }, 'dynsec: reconcile failed'));
  }, cfg.reconcileSeconds * 1000);
  timer.unref();
  return sync;
}
