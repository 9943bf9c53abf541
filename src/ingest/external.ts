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
 *  - A message stored whose PUBACK was lost (a crash in between) is resent too, and stored
 *    once: each record is committed with the delivery that carried it (external-redelivery.ts).
 *  - What a connection read before it dropped is still stored, but never acknowledged on the
 *    next connection; the broker resends it there, and the resend, handled only after it,
 *    is recognised as stored.
 *
 * The external broker authenticates the cars and enforces their ACL (deploy/brokers/);
 * Shekara still checks that the VIN in the topic is registered, and quarantines what it cannot
 * attribute.
 *
 * Downlink commands: the same connections publish to `vehicles/{VIN}/commands` (QoS 1, with
 * the command's remaining ttl as MQTT 5 Message Expiry Interval, so the broker drops what a car
 * did not fetch in time) and join `$share/{group}/vehicles/+/commands/ack`, so every
 * acknowledgement reaches one instance, which records it before its PUBACK. The broker does not
 * say who is connected: a car counts as online while its messages arrive (`presenceSeconds`).
 * A PUBACK "no matching subscribers" (0x10) means the car holds no subscription at the broker:
 * nothing reached it, and the command waits.
 */
import mqtt, { type MqttClient, type Packet } from 'mqtt';
import type { MqttExternalConfig } from '../config/schema.js';
import type { BrokerDelivery, Store, VehicleRow } from '../store/index.js';
import { alreadyStored, brokerDeliveryOf } from './external-redelivery.js';
import type { Intake } from './intake.js';
import { parseCommandAck, type CommandAckMessage } from './command-ack.js';
import { VIN_RE } from './credentials.js';
import { pushbackRetry } from './pushback.js';
import type { Logger } from '../log.js';

const TOPIC = /^vehicles\/([^/]+)\/telemetry$/;
const ACK_TOPIC = /^vehicles\/([^/]+)\/commands\/ack$/;
/** MQTT 5 PUBACK reason: the broker accepted the message but holds no subscription for it. */
const NO_MATCHING_SUBSCRIBERS = 0x10;
/** Vehicle attribution for a payload whose topic names no registered car. */
const UNATTRIBUTED = { vin: 'UNREGISTERED', oem: '' } as const;

export interface ExternalIngest {
  readonly connections: number;
  /** Publishes a command to the car's topic; resolves once the broker holds it for the car's subscription. */
  publishCommand(vin: string, payload: Buffer, expiresAt: number): Promise<void>;
  /** True while a message from the car arrived within presenceSeconds (on this instance). */
  isOnline(vin: string): boolean;
  close(): Promise<void>;
}

export interface ExternalDeps {
  lookupVehicle: (vin: string) => Promise<VehicleRow | undefined>;
  intake: Intake;
  /** Where each stored message's broker delivery is kept (a resend is recognised there). */
  deliveries: Pick<Store, 'brokerDelivery'>;
  log: Logger;
  /** A car acknowledged a command; PUBACK after this resolves. Without it, acks are not subscribed to. */
  onCommandAck?: (vin: string, ack: CommandAckMessage) => Promise<void>;
  /** A car's traffic arrived after more than presenceSeconds of silence: send what waits for it. */
  onVehicleOnline?: (vin: string) => void;
}

/** Stores one command acknowledgement; an invalid one is counted, logged and acknowledged (the broker holds the car). */
function ackHandler(deps: ExternalDeps): (vin: string, payload: Buffer) => Promise<void> {
  const { intake, log } = deps;
  return async (vin, payload) => {
    const vehicle = VIN_RE.test(vin) ? await deps.lookupVehicle(vin) : undefined;
    if (!vehicle) {
      intake.reject('unregistered-vehicle', 'mqtt');
      log.warn('external broker: command acknowledgement from an unregistered vehicle; ignored');
      return;
    }
    const parsed = parseCommandAck(payload);
    if ('invalid' in parsed) {
      intake.reject('command-ack-invalid', 'mqtt');
      log.warn({ problem: parsed.invalid }, 'external broker: invalid command acknowledgement; ignored');
      return;
    }
    await deps.onCommandAck!(vehicle.vin, parsed);
  };
}

/** Where a telemetry message came from: its topic, payload and the broker's delivery of it. */
interface Delivered {
  readonly topic: string;
  readonly payload: Buffer;
  readonly delivery: BrokerDelivery | undefined;
  readonly dup: boolean;
}

/** Stores one telemetry message; resolves once it is durable (record or quarantine), or known stored already. */
function telemetryHandler(deps: ExternalDeps): (m: Delivered) => Promise<void> {
  const { intake, log } = deps;
  return async ({ topic, payload, delivery, dup }: Delivered): Promise<void> => {
    if (await alreadyStored(deps.deliveries, delivery, dup)) {
      log.info({ connection: delivery!.session }, 'external broker: a resent message was stored already; acknowledged');
      return;
    }
    // Backpressure (egress saturated): keep the PUBACK back while the record waits in the
    // committer's line, as the embedded broker does; the broker's in-flight window toward this
    // connection fills and delivery slows.
    const retry = pushbackRetry(() => true);
    const opts = { retry, ...(delivery && { brokerDelivery: delivery }) };
    const vin = TOPIC.exec(topic)?.[1];
    const vehicle = vin && VIN_RE.test(vin) ? await deps.lookupVehicle(vin) : undefined;
    if (!vehicle) {
      intake.reject('unregistered-vehicle', 'mqtt');
      // Neither the topic nor the VIN in it is logged or kept in the reason (src/vehicle-ref.ts).
      log.warn('external broker: telemetry for an unregistered vehicle; quarantined');
      await intake.accept(UNATTRIBUTED, 'mqtt', payload, {
        quarantineReason: 'topic: names an unregistered vehicle',
        ...opts,
      });
      return;
    }
    await intake.accept({ vin: vehicle.vin, oem: vehicle.oem }, 'mqtt', payload, opts);
  };
}

export async function startExternalIngest(cfg: MqttExternalConfig, deps: ExternalDeps): Promise<ExternalIngest> {
  const { log } = deps;
  const filter = `$share/${cfg.group}/vehicles/+/telemetry`;
  const ackFilter = `$share/${cfg.group}/vehicles/+/commands/ack`;
  const handle = telemetryHandler(deps);
  const handleAck = ackHandler(deps);
  const presenceMs = cfg.presenceSeconds * 1000;
  /** When a message from each car last arrived. */
  const seen = new Map<string, number>();
  const saw = (vin: string) => {
    const t = Date.now();
    const last = seen.get(vin);
    seen.set(vin, t);
    if (last === undefined || t - last > presenceMs) deps.onVehicleOnline?.(vin);
  };
  const prune = setInterval(() => {
    const t = Date.now();
    for (const [vin, at] of seen) if (t - at > presenceMs) seen.delete(vin);
  }, presenceMs);
  prune.unref();
  const route = async (m: Delivered): Promise<void> => {
    const { topic, payload } = m;
    const ackVin = deps.onCommandAck ? ACK_TOPIC.exec(topic)?.[1] : undefined;
    if (ackVin !== undefined) await handleAck(ackVin, payload);
    else await handle(m);
    const vin = ackVin ?? TOPIC.exec(topic)?.[1];
    if (vin !== undefined && VIN_RE.test(vin)) saw(vin);
  };

  const open = (i: number): Promise<{ client: MqttClient; sessionPresent: boolean }> => {
    const clientId = `${cfg.clientIdPrefix}-${i}`;
    const client = mqtt.connect(cfg.url, {
      protocolVersion: 5,
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: cfg.sessionExpirySeconds },
      username: cfg.username,
      password: cfg.password,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      // Nothing is read before the handler below is in place.
      manualConnect: true,
    });
    // The message of this session in hand, whichever TCP connection carried it. MQTT.js hands
    // over one message at a time per connection, but a dropped connection's message may still
    // be committing when the next connection brings its resend: that resend waits for it, so
    // its look-up sees the record (stored once, not twice).
    let inHand: Promise<unknown> = Promise.resolve();
    client.handleMessage = (packet, done) => {
      const via = client.stream;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const delivery = brokerDeliveryOf(clientId, { ...packet, payload });
      const handled = inHand.then(() => route({ topic: packet.topic, payload, delivery, dup: packet.dup }));
      inHand = handled.catch(() => undefined);
      handled.then(
        // MUST NOT acknowledge what a dropped connection carried: MQTT.js would send that PUBACK
        // on the next connection, beside the broker's resend of the message there (DUP set,
        // MQTT 5.0 §4.4), which is recognised as stored and acknowledged once.
        () => done(via.destroyed ? new Error('connection dropped; the broker resends the message') : undefined),
        (err: unknown) => {
          // No PUBACK: drop the connection so the broker redelivers on the reconnect.
          log.error(
            { err, connection: i },
            'external broker: could not store a message; not acknowledged, reconnecting',
          );
          via.destroy();
          done(err as Error);
        },
      );
    };
    client.on('error', (err) => log.warn({ reason: err.message, connection: i }, 'external broker: connection error'));
    // MQTT.js resolves a publish with reason 0x10 as a success and keeps the reason to itself.
    const mine = new Set<number>();
    unmatched.set(client, mine);
    client.on('packetreceive', (p) => {
      if (p.cmd === 'puback' && p.reasonCode === NO_MATCHING_SUBSCRIBERS && p.messageId !== undefined)
        mine.add(p.messageId);
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        client.end(true);
        reject(err);
      };
      client.once('error', onError);
      client.once('connect', (connack) => {
        client.off('error', onError);
        resolve({ client, sessionPresent: connack.sessionPresent });
      });
      client.connect();
    });
  };

  const clients: MqttClient[] = [];
  /** Per connection, ids of command PUBLISHes the broker answered with "no matching subscribers". */
  const unmatched = new Map<MqttClient, Set<number>>();
  const filters = deps.onCommandAck ? [filter, ackFilter] : filter;
  try {
    const opened = await Promise.allSettled(
      Array.from({ length: cfg.connections }, async (_, i) => {
        const { client, sessionPresent } = await open(i);
        clients.push(client);
        if (!sessionPresent) return client.subscribeAsync(filters, { qos: 1 });
        // A resumed session holds its subscriptions, and MQTT.js reads one packet at a time: the
        // SUBACK comes after every message the broker kept for us (each stored before its PUBACK),
        // so waiting for it would hold the start for as long as the backlog takes.
        client.subscribe(filters, { qos: 1 }, (err) => {
          if (err) log.warn({ reason: err.message, connection: i }, 'external broker: subscribe failed');
        });
      }),
    );
    const failed = opened.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    clearInterval(prune);
    await Promise.all(clients.map((c) => c.endAsync(true)));
    throw err;
  }
  log.info({ url: cfg.url, filter, connections: clients.length }, 'external broker: subscribed');

  let next = 0;
  return {
    connections: clients.length,
    isOnline: (vin) => Date.now() - (seen.get(vin) ?? -Infinity) <= presenceMs,
    async publishCommand(vin, payload, expiresAt) {
      const client = [...clients.slice(next), ...clients.slice(0, next)].find((c) => c.connected);
      next = (next + 1) % clients.length;
      if (!client) throw new Error('no connection to the external broker');
      // The broker drops it once the command's ttl passes, if the car has not fetched it by then.
      const messageExpiryInterval = Math.max(1, Math.ceil((expiresAt - Date.now()) / 1000));
      const sent = (await client.publishAsync(`vehicles/${vin}/commands`, payload, {
        qos: 1,
        properties: { messageExpiryInterval },
      })) as (Packet & { messageId?: number }) | undefined;
      if (sent?.messageId !== undefined && unmatched.get(client)?.delete(sent.messageId))
        throw new Error('the broker holds no subscription of the car to its command topic');
    },
    close: async () => {
      clearInterval(prune);
      await Promise.all(clients.map((c) => c.endAsync()));
    },
  };
}
