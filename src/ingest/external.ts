/**
 * External-broker mode: Shekara is a subscriber of an existing broker, not the broker. Each
 * connection joins the MQTT 5 shared subscription `$share/{group}/vehicles/+/telemetry`
 * (MQTT 5.0 §4.8.2), so every instance in the group receives a share of the cars' telemetry.
 *
 * Durability: the PUBACK to the broker MUST NOT be sent before intake.accept has resolved
 * (record durable in the local store). mqtt.js sends it after `handleMessage` calls back, so
 * the commit happens there. Until then the broker keeps the message and redelivers it to the
 * group if this instance dies (persistent session, clean start off).
 *
 * The external broker authenticates the cars and enforces their ACL; Shekara still checks
 * that the VIN in the topic is registered, and quarantines what it cannot attribute.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttExternalConfig } from '../config/schema.js';
import type { VehicleRow } from '../store/index.js';
import type { Intake } from './intake.js';
import { VIN_RE } from './credentials.js';
import type { Logger } from '../log.js';

const TOPIC = /^vehicles\/([^/]+)\/telemetry$/;
/** Vehicle attribution for a payload whose topic names no registered car. */
const UNATTRIBUTED = { vin: 'UNREGISTERED', oem: '' } as const;

export interface ExternalIngest {
  readonly connections: number;
  close(): Promise<void>;
}

export async function startExternalIngest(
  cfg: MqttExternalConfig,
  deps: {
    lookupVehicle: (vin: string) => Promise<VehicleRow | undefined>;
    intake: Intake;
    log: Logger;
  },
): Promise<ExternalIngest> {
  const { intake, log } = deps;
  const filter = `$share/${cfg.group}/vehicles/+/telemetry`;

  const handle = async (topic: string, payload: Buffer): Promise<void> => {
    const vin = TOPIC.exec(topic)?.[1];
    const vehicle = vin && VIN_RE.test(vin) ? await deps.lookupVehicle(vin) : undefined;
    if (!vehicle) {
      intake.reject('unregistered-vehicle', 'mqtt');
      // Neither the topic nor the VIN in it is logged or kept in the reason (src/vehicle-ref.ts).
      log.warn('external broker: telemetry for an unregistered vehicle; quarantined');
      await intake.accept(UNATTRIBUTED, 'mqtt', payload, {
        quarantineReason: 'topic: names an unregistered vehicle',
      });
      return;
    }
    await intake.accept({ vin: vehicle.vin, oem: vehicle.oem }, 'mqtt', payload);
  };

  const clients: MqttClient[] = [];
  try {
    for (let i = 0; i < cfg.connections; i++) {
      const client = await mqtt.connectAsync(cfg.url, {
        protocolVersion: 5,
        clientId: `${cfg.clientIdPrefix}-${i}`,
        clean: false,
        properties: { sessionExpiryInterval: 3600 },
        username: cfg.username,
        password: cfg.password,
        reconnectPeriod: 1_000,
        connectTimeout: 10_000,
      });
      client.handleMessage = (packet, done) => {
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        handle(packet.topic, payload).then(
          () => done(),
          (err: Error) => {
            // No PUBACK: the broker redelivers after reconnect. Drop the connection so it does.
            log.error({ err }, 'external broker: could not store a record; reconnecting');
            client.stream.destroy();
            done(err);
          },
        );
      };
      client.on('error', (err) =>
        log.warn({ reason: err.message, connection: i }, 'external broker: connection error'),
      );
      await client.subscribeAsync(filter, { qos: 1 });
      clients.push(client);
    }
  } catch (err) {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    throw err;
  }
  log.info({ url: cfg.url, filter, connections: clients.length }, 'external broker: subscribed');

  return {
    connections: clients.length,
    close: async () => {
      await Promise.all(clients.map((c) => c.endAsync()));
    },
  };
}
