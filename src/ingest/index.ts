/**
 * The ingest module's one door. `createIngest` starts the car endpoint (MQTT, mqtt/server.ts) and registers
 * the HTTPS ingest route; both feed the same intake (decode → policy → durable commit).
 */
import type { Catalog } from '../catalog/index.js';
import type { FastifyInstance } from 'fastify';
import type { Gbt32960Config, IngestConfig, LimitsConfig, MqttConfig } from '../config/schema.js';
import type { CanonicalRecord, Projection } from '../record.js';
import type { Store } from '../store/index.js';
import { createCommitter } from './committer.js';
import { createIntake, type IngestCounters } from './intake.js';
import { startMqttIngest } from './mqtt/server.js';
import type { Gbt32960Ingest } from './gbt32960/server.js';
import type { BrokerCredentials } from './dynsec.js';
import { registerEmqxAuth } from './emqx-auth.js';
import { registerHttpIngest } from './http.js';
import { createRateLimiter } from './rate-limit.js';
import type { Logger } from '../log.js';
import type { Telemetry } from '../telemetry/index.js';
import type { CommandAckMessage } from './command-ack.js';
import { ephemeralVehicleRef, type VehicleRef } from '../vehicle-ref.js';

export { telemetryTopic, commandTopic, commandAckTopic } from './mqtt/endpoint.js';
export type { CommandAckMessage } from './command-ack.js';
export { generateSecret, hashSecret, VIN_RE, MIN_SECRET_LENGTH } from './credentials.js';

/** How long an external broker keeps a command published without a ttl (none is: downlink always sets one). */
const DEFAULT_COMMAND_EXPIRY_MS = 300_000;

export interface IngestModuleConfig {
  readonly mqtt: MqttConfig;
  readonly limits: LimitsConfig;
  readonly ingest: IngestConfig;
  readonly gbt32960: Gbt32960Config;
}

export interface IngestDeps {
  readonly store: Pick<
    Store,
    | 'commitIngest'
    | 'getVehicleForAuth'
    | 'listVehicles'
    | 'pendingMqttQos2'
    | 'releaseMqttQos2'
    | 'brokerDelivery'
    | 'checkGbt32960Login'
  >;
  readonly project: (record: CanonicalRecord) => Promise<Projection[]>;
  /** Where the HTTPS ingest route is registered (not yet listening). */
  readonly http: FastifyInstance;
  /** Called after each durable commit with the number of items written. */
  readonly onCommitted: (count: number) => void;
  /** True while the egress queue is saturated: ingest pushes back (PUBACK withheld, HTTP 503). */
  readonly egressSaturated?: () => boolean;
  /** Types every signal (src/catalog/); VSS and Shekara's own when absent. */
  readonly catalog?: Catalog;
  readonly log: Logger;
  /** What log lines say instead of a VIN (src/vehicle-ref.ts); a process-only key when absent. */
  readonly vehicleRef?: VehicleRef;
  /** Spans and counters (src/telemetry); everything off when absent. */
  readonly telemetry?: Telemetry;
  /** A car acknowledged a downlink command (MQTT PUBACK after this resolves). */
  readonly onCommandAck?: (vin: string, ack: CommandAckMessage) => Promise<void>;
  /** A car subscribed to its command topic (external broker: its traffic arrived after a silence). */
  readonly onCommandSubscribed?: (vin: string) => void;
  /** Embedded broker: the send-time check before a command goes again from a car's session (mqtt/outbound.ts). */
  readonly recheckCommand?: (vin: string, commandId: string) => Promise<boolean>;
}

export interface Ingest {
  /** The embedded broker's port; undefined in external-broker mode. */
  readonly mqttPort: number | undefined;
  readonly mqttsPort: number | undefined;
  /** The GB/T 32960 listeners' ports, when enabled (docs/gbt32960.md). */
  readonly gbt32960Port: number | undefined;
  readonly gbt32960TlsPort: number | undefined;
  /** Re-reads MQTTS certificates, keys and the vehicle CRL. */
  reloadTls(): void;
  readonly counters: Readonly<IngestCounters>;
  /** Records pushed back and waiting in line for room, their answer withheld (MQTT PUBACK). */
  readonly waiting: number;
  /** Decoded records held in memory until the store takes them: queued for a commit or waiting in line for room. */
  readonly recordsWaiting: number;
  readonly connectedVehicles: number;
  /** Closes the vehicle's MQTT connections (credentials rotated or revoked); returns how many. */
  disconnectVehicle(vin: string): number;
  /** Closes live connections whose credentials changed in the store since they authenticated (SIGHUP). */
  recheckCredentials(): Promise<number>;
  /**
   * Resolves once the broker took the command for the car. `command.expiresAt` bounds how long an
   * external broker keeps it; `command.id` lets the embedded broker check a re-send of it first.
   */
  publishCommand(
    vin: string,
    payload: Buffer,
    command?: { readonly id: string; readonly expiresAt: number },
  ): Promise<void>;
  /**
   * True while the vehicle is connected and subscribed to its command topic; external-broker
   * mode: while its messages arrive (`mqtt.external.presenceSeconds`).
   */
  isCommandSubscriber(vin: string): boolean;
  /** Why the car's channel will not say this command (GB/T 32960: no form for it, or never sent), or undefined. */
  commandRefusal(
    vin: string,
    command: { readonly type: string; readonly params: Readonly<Record<string, unknown>> },
  ): string | undefined;
  /** True in external-broker mode: subscriptions are not seen, waiting commands are polled for. */
  readonly pollsCommands: boolean;
  /** External-broker mode with credential sync: the broker's copy of the vehicle credentials. */
  readonly brokerCredentials: BrokerCredentials | undefined;
  close(): Promise<void>;
}

export async function createIngest(cfg: IngestModuleConfig, deps: IngestDeps): Promise<Ingest> {
  const log = deps.log.child({ module: 'ingest' });
  const committer = createCommitter(
    deps.store,
    { maxBatch: cfg.ingest.commitMaxBatch, maxPending: cfg.ingest.maxPendingRecords, saturated: deps.egressSaturated },
    deps.onCommitted,
  );
  const vehicleRef = deps.vehicleRef ?? ephemeralVehicleRef();
  const intake = createIntake({
    committer,
    project: deps.project,
    log,
    telemetry: deps.telemetry,
    vehicleRef,
    catalog: deps.catalog,
    clock: { aheadMaxMs: cfg.ingest.clockAheadMaxSeconds * 1000, behindMaxMs: cfg.ingest.clockBehindMaxSeconds * 1000 },
  });
  // A vehicle whose credentials were revoked is refused as if unknown, whatever it presents.
  // getVehicleForAuth reads and maps a row for an unknown VIN too (red-team L4, credentials.ts).
  const lookupVehicle = async (vin: string) => {
    const v = await deps.store.getVehicleForAuth(vin);
    return v && v.revokedAt === null ? v : undefined;
  };

  // One per-vehicle message budget for both channels, kept across reconnects.
  const rate = createRateLimiter(cfg.limits.messagesPerSecond, cfg.limits.messageBurst);
  registerHttpIngest(deps.http, cfg.limits, { lookupVehicle, intake, rate });
  // The third channel, whichever MQTT mode: GB/T 32960 cars connect to Shekara itself. Its
  // decoder is loaded only when it is turned on (test/cli/cli-imports.test.ts).
  const gbtServer = cfg.gbt32960.enabled ? await import('./gbt32960/server.js') : undefined;
  const gbt: Gbt32960Ingest | undefined = await gbtServer?.startGbt32960Ingest(cfg.gbt32960, {
    lookupVehicle,
    checkLogin: (l) => deps.store.checkGbt32960Login(l),
    intake,
    log,
    rate,
    onCommandAck: deps.onCommandAck,
    onCommandSubscribed: deps.onCommandSubscribed,
  });
  /** Downlink: a car logged in over GB/T 32960 gets its commands as GB/T frames, any other over MQTT. */
  const viaGbt = (vin: string) => gbt?.isOnline(vin) === true;
  // MQTT carries any command type as JSON; only GB/T 32960 has commands it cannot say.
  const commandRefusal: Ingest['commandRefusal'] = (vin, c) => (viaGbt(vin) ? gbt!.commandRefusal(vin, c) : undefined);
  const gbtPorts = { gbt32960Port: gbt?.port, gbt32960TlsPort: gbt?.tlsPort };
  if (cfg.mqtt.mode === 'external') {
    const ext = cfg.mqtt.external;
    // Only an external broker needs the MQTT client (mqtt, about 0.3 CPU-s to load): the embedded
    // broker parses packets itself (test/cli/cli-imports.test.ts).
    const [{ startExternalIngest }, { dynsecConfigOf, startDynsecSync }] = await Promise.all([
      import('./external.js'),
      import('./dynsec.js'),
    ]);
    // Credentials first: the broker's ACL is in place before Shekara subscribes.
    if (ext.credentialSync.kind === 'emqx-http')
      registerEmqxAuth(
        deps.http,
        {
          token: ext.credentialSync.password!,
          group: ext.group,
          gatewayUsername: ext.username!,
          gatewayPassword: ext.password!,
        },
        { lookupVehicle },
      );
    const dynsec = dynsecConfigOf(ext);
    const brokerCredentials = dynsec
      ? await startDynsecSync(dynsec, { listVehicles: () => deps.store.listVehicles(), log, vehicleRef })
      : undefined;
    const external = await startExternalIngest(ext, {
      lookupVehicle,
      intake,
      deliveries: deps.store,
      log,
      onCommandAck: deps.onCommandAck,
      onVehicleOnline: deps.onCommandSubscribed,
    }).catch(async (err: unknown) => {
      await brokerCredentials?.close();
      await gbt?.close();
      throw err;
    });
    return {
      mqttPort: undefined,
      mqttsPort: undefined,
      ...gbtPorts,
      reloadTls: () => gbt?.reloadTls(),
      counters: intake.counters,
      get waiting() {
        return committer.waiting;
      },
      get recordsWaiting() {
        return committer.pending + committer.waiting;
      },
      get connectedVehicles() {
        return gbt?.connectedVehicles ?? 0;
      },
      // The external broker holds the MQTT connections and enforces device auth (docs/external-broker.md).
      disconnectVehicle: (vin) => gbt?.disconnectVehicle(vin) ?? 0,
      recheckCredentials: async () => (await gbt?.recheckCredentials()) ?? 0,
      publishCommand: (vin, payload, command) =>
        viaGbt(vin)
          ? gbt!.publishCommand(vin, payload)
          : external.publishCommand(vin, payload, command?.expiresAt ?? Date.now() + DEFAULT_COMMAND_EXPIRY_MS),
      isCommandSubscriber: (vin) => viaGbt(vin) || external.isOnline(vin),
      commandRefusal,
      pollsCommands: true,
      brokerCredentials,
      async close() {
        await gbt?.close();
        await external.close();
        await brokerCredentials?.close();
        await committer.flush();
      },
    };
  }
  const mqtt = await startMqttIngest(cfg.mqtt, cfg.limits, {
    lookupVehicle,
    intake,
    log,
    rate,
    qos2: {
      pending: (vin) => deps.store.pendingMqttQos2(vin),
      release: (vin, ids) => deps.store.releaseMqttQos2(vin, ids),
    },
    onCommandAck: deps.onCommandAck,
    onCommandSubscribed: deps.onCommandSubscribed,
    recheckCommand: deps.recheckCommand,
  }).catch(async (err: unknown) => {
    await gbt?.close();
    throw err;
  });

  return {
    mqttPort: mqtt.port,
    mqttsPort: mqtt.tlsPort,
    ...gbtPorts,
    reloadTls() {
      mqtt.reloadTls();
      gbt?.reloadTls();
    },
    counters: intake.counters,
    get waiting() {
      return committer.waiting;
    },
    get recordsWaiting() {
      return committer.pending + committer.waiting;
    },
    get connectedVehicles() {
      return mqtt.connectedVehicles + (gbt?.connectedVehicles ?? 0);
    },
    disconnectVehicle: (vin) => mqtt.disconnectVehicle(vin) + (gbt?.disconnectVehicle(vin) ?? 0),
    recheckCredentials: async () => (await mqtt.recheckCredentials()) + ((await gbt?.recheckCredentials()) ?? 0),
    publishCommand: (vin, payload, command) =>
      viaGbt(vin) ? gbt!.publishCommand(vin, payload) : mqtt.publishCommand(vin, payload, command?.id),
    isCommandSubscriber: (vin) => viaGbt(vin) || mqtt.isCommandSubscriber(vin),
    commandRefusal,
    pollsCommands: false,
    brokerCredentials: undefined,
    async close() {
      await gbt?.close();
      await mqtt.close();
      await committer.flush();
    },
  };
}
