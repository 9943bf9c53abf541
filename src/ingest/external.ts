/**
 * External-broker mode: Shekara is a subscriber of an existing broker, not the broker. Each
 * connection joins the MQTT 5 shared subscription `$share/{group}/vehicles/+/telemetry`
 * (MQTT 5.0 §4.8.2), so every instance in the group receives a share of the cars' telemetry.
 *
 * Durability — ack only what is stored, from the first byte:
 *  - The message handler is installed before the connection opens (`manualConnect`): a resumed
 *    session's queued messages arrive straight after CONNACK, often in the same TCP segment,
 *    and MQTT.js's default handler would PUBACK them unread.
 *  - MQTT.js sends the PUBACK only after `handleMessage` calls back without an error, so the
 *    call back waits for intake.accept (record durable in the local store).
 *  - A message that cannot be stored is not acknowledged: the connection is dropped, and the
 *    broker redelivers it on the reconnect (persistent session, clean start off; MQTT 5.0
 *    §4.4: unacknowledged PUBLISH packets are resent when the session resumes).
 *
 * The external broker authenticates the cars and enforces their ACL (deploy/brokers/);
 * Shekara still checks that the VIN in the topic is registered, and quarantines what it cannot
 * attribute.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttExternalConfig } from '../config/schema.js';
import type { VehicleRow } from '../store/index.js';
import type { Intake } from './intake.js';
import { VIN_RE } from './credentials.js';
import { isShekaraError } from '../errors.js';
import type { Logger } from '../log.js';

const TOPIC = /^vehicles\/([^/]+)\/telemetry$/;
/** Vehicle attribution for a payload whose topic names no registered car. */
const UNATTRIBUTED = { vin: 'UNREGISTERED', oem: '' } as const;
const BACKPRESSURE_RETRY_MS = 50;
const BACKPRESSURE_MAX_WAIT_MS = 30_000;

export interface ExternalIngest {
  readonly connections: number;
  close(): Promise<void>;
}

export interface ExternalDeps {
  lookupVehicle: (vin: string) => Promise<VehicleRow | undefined>;
  intake: Intake;
  log: Logger;
}

/** Stores one telemetry message; resolves once it is durable (record or quarantine). */
function telemetryHandler(deps: ExternalDeps): (topic: string, payload: Buffer) => Promise<void> {
  const { intake, log } = deps;
  const store = async (topic: string, payload: Buffer): Promise<void> => {
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
  // Backpressure (egress saturated): keep the PUBACK back and retry, as the embedded broker
  // does; the broker's in-flight window toward this connection fills and delivery slows.
  return async (topic, payload) => {
    const started = Date.now();
    for (;;) {
      try {
        return await store(topic, payload);
      } catch (err) {
        if (!isShekaraError(err, 'SHK_INGEST_BACKPRESSURE') || Date.now() - started >= BACKPRESSURE_MAX_WAIT_MS)
          throw err;
        await new Promise((r) => setTimeout(r, BACKPRESSURE_RETRY_MS).unref());
      }
    }
  };
}

export async function startExternalIngest(cfg: MqttExternalConfig, deps: ExternalDeps): Promise<ExternalIngest> {
  const { log } = deps;
  const filter = `$share/${cfg.group}/vehicles/+/telemetry`;
  const handle = telemetryHandler(deps);

  const open = (i: number): Promise<MqttClient> => {
    const client = mqtt.connect(cfg.url, {
      protocolVersion: 5,
      clientId: `${cfg.clientIdPrefix}-${i}`,
      clean: false,
      properties: { sessionExpiryInterval: cfg.sessionExpirySeconds },
      username: cfg.username,
      password: cfg.password,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      // Nothing is read before the handler below is in place.
      manualConnect: true,
    });
    client.handleMessage = (packet, done) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      handle(packet.topic, payload).then(
        () => done(),
        (err: unknown) => {
          // No PUBACK: drop the connection so the broker redelivers on the reconnect.
          log.error(
            { err, connection: i },
            'external broker: could not store a message; not acknowledged, reconnecting',
          );
          client.stream.destroy();
          done(err as Error);
        },
      );
    };
    client.on('error', (err) => log.warn({ reason: err.message, connection: i }, 'external broker: connection error'));
    return new Promise<MqttClient>((resolve, reject) => {
      const onError = (err: Error) => {
        client.end(true);
        reject(err);
      };
      client.once('error', onError);
      client.once('connect', () => {
        client.off('error', onError);
        resolve(client);
      });
      client.connect();
    });
  };

  const clients: MqttClient[] = [];
  try {
    for (let i = 0; i < cfg.connections; i++) {
      const client = await open(i);
      clients.push(client);
      await client.subscribeAsync(filter, { qos: 1 });
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
