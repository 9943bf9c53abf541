/**
 * Inbound PUBLISH (MQTT 3.1.1 §3.3, MQTT 5 §3.3): telemetry to `vehicles/{own VIN}/telemetry`
 * and command acknowledgements to `vehicles/{own VIN}/commands/ack`; nothing else.
 *
 * Durability: the PUBACK (QoS 1) or PUBREC (QoS 2) MUST NOT be sent before intake.accept has
 * resolved (the record, or its quarantine row, durable in the local store). When the store
 * pushes back, the acknowledgement is withheld and the same decoded attempt retried; the car's
 * in-flight window fills and it slows down.
 *
 * A refusal: MQTT 5 QoS 1/2 gets a PUBACK/PUBREC with the reason code and a reason string and
 * the connection stays (§3.4.2.1); MQTT 3.1.1 has no negative acknowledgement, so the connection
 * is closed and nothing of the message is stored. User properties are never read here.
 */
import type { IPublishPacket } from 'mqtt-packet';
import { isShekaraError } from '../../errors.js';
import { parseCommandAck } from '../command-ack.js';
import { RC } from './codes.js';
import type { Connection } from './connection.js';
import { commandAckTopic, telemetryTopic } from './endpoint.js';
import { ack, ackWithReason } from './wire.js';
import { BACKPRESSURE_MAX_WAIT_MS, pushbackRetry } from '../pushback.js';

export function onPublish(c: Connection, p: IPublishPacket): void {
  const { limits, deps } = c.ep;
  const session = c.session!;
  const { vin } = session.vehicle;
  const { qos } = p;
  const id = p.messageId ?? 0;
  // [MQTT-2.3.1-1] / MQTT 5 §2.2.1: a QoS 1 or 2 PUBLISH carries a non-zero packet identifier.
  if (qos > 0 && id === 0) return c.protocolError('packet-id-zero', 'packet identifier 0 is not allowed');
  let topic = p.topic;
  const alias = p.properties?.topicAlias;
  if (alias !== undefined) {
    // MQTT 5 §3.3.2.3.4: 0 or above the advertised Topic Alias Maximum → DISCONNECT 0x94.
    if (alias === 0 || alias > limits.topicAliasMaximum)
      return c.protocolError('topic-alias-invalid', 'topic alias out of range', RC.topicAliasInvalid);
    if (topic === '') {
      const known = c.aliases?.get(alias);
      if (known === undefined) return c.protocolError('topic-alias-invalid', 'unknown topic alias');
      topic = known;
    } else (c.aliases ??= new Map()).set(alias, topic);
  }
  if (topic.length > limits.maxTopicLength)
    return refuse(c, p, 'topic-too-long', RC.topicNameInvalid, 'topic longer than the limit');
  const own = (c.topics ??= { telemetry: telemetryTopic(vin), ack: commandAckTopic(vin) });
  const isAck = topic === own.ack && deps.onCommandAck !== undefined;
  if (!isAck && topic !== own.telemetry)
    return refuse(c, p, 'publish-topic-denied', RC.notAuthorized, 'a car publishes only to its own telemetry topic');

  if (qos === 2) {
    const prior = session.qos2.get(id);
    const restored = p.dup && session.storedQos2.has(id);
    if (prior !== undefined || restored) {
      // [MQTT-4.3.3-2]: a PUBLISH with an id between PUBREC and PUBREL is answered with PUBREC
      // and not delivered again — same connection, resumed session or restarted gateway.
      if (restored) session.qos2.set(id, true);
      const slot = c.ackSlot(false);
      const answer = () => c.fill(slot, ack('pubrec', id));
      if (prior instanceof Promise) prior.then(answer, () => undefined);
      else answer();
      return;
    }
    session.storedQos2.delete(id);
  }
  // MQTT 5 §3.3.4: more unacknowledged QoS 1/2 PUBLISHes than the advertised Receive Maximum.
  if (qos > 0 && c.version === 5 && c.inflightCount >= limits.receiveMaximum)
    return c.protocolError('receive-maximum-exceeded', 'receive maximum exceeded', RC.receiveMaximumExceeded);
  if (!deps.rate.take(vin))
    return refuse(
      c,
      p,
      'rate-limit-exceeded',
      RC.quotaExceeded,
      'over the vehicle message rate',
      RC.messageRateTooHigh,
    );

  const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
  const slot = qos > 0 ? c.ackSlot(true) : undefined;
  let done: Promise<void>;
  if (isAck) {
    const parsed = parseCommandAck(payload);
    if ('invalid' in parsed) {
      c.ep.reject('command-ack-invalid', { vehicle: c.ref(), problem: parsed.invalid });
      if (slot && c.version === 5)
        return c.fill(
          slot,
          ackWithReason(qos === 1 ? 'puback' : 'pubrec', id, RC.payloadFormatInvalid, text(c, parsed.invalid)),
        );
      return c.disconnect(RC.payloadFormatInvalid, parsed.invalid);
    }
    done = deps.onCommandAck!(vin, parsed);
  } else done = store(c, payload, qos, id);
  if (qos === 2) session.qos2.set(id, done);
  done.then(
    () => {
      if (qos === 2 && session.qos2.get(id) === done) session.qos2.set(id, true);
      if (slot) c.fill(slot, ack(qos === 1 ? 'puback' : 'pubrec', id));
    },
    (err: unknown) => {
      if (qos === 2 && session.qos2.get(id) === done) session.qos2.delete(id);
      // Backpressure that outlasted the wait (or the car left meanwhile) is expected and bounded:
      // counted and logged in aggregate, never one line with a stack per message.
      if (isShekaraError(err, 'SHK_INGEST_BACKPRESSURE')) c.ep.reject('backpressure', { vehicle: c.ref() });
      else
        deps.log.error({ err, vehicle: c.ref() }, 'mqtt: could not store a message; disconnecting so the car resends');
      c.disconnect(RC.unspecified);
    },
  );
}

/**
 * Decode, policy, durable commit. While the store pushes back, the intake submits the same
 * decoded record again while the car is connected (src/ingest/pushback.ts): a QoS 1/2 one for
 * limits.pushbackMaxWaitSeconds (0: no bound; its PUBACK is withheld and
 * maxUnacknowledgedTotal bounds how many wait), a QoS 0 one, which nothing holds back, for
 * BACKPRESSURE_MAX_WAIT_MS.
 */
function store(c: Connection, payload: Buffer, qos: number, id: number): Promise<void> {
  const maxWaitS = c.ep.limits.pushbackMaxWaitSeconds;
  const maxWaitMs = qos === 0 ? BACKPRESSURE_MAX_WAIT_MS : maxWaitS === 0 ? Infinity : maxWaitS * 1_000;
  const retry = pushbackRetry(() => c.state === 'open', maxWaitMs);
  return c.ep.deps.intake
    .accept(c.session!.vehicle, 'mqtt', payload, { mqttQos2: qos === 2 ? id : undefined, retry })
    .then(() => undefined);
}

const text = (c: Connection, s: string) => (c.problemInfo ? s : undefined);

/**
 * A PUBLISH the car may not make. MQTT 5 QoS 1/2: a negative PUBACK/PUBREC, in order with the
 * others, and the car stays. Otherwise (3.1.1, or QoS 0 which has no acknowledgement) the
 * connection closes, MQTT 5 with DISCONNECT `disconnectRc`.
 */
function refuse(c: Connection, p: IPublishPacket, reason: string, rc: number, words: string, disconnectRc = rc): void {
  c.ep.reject(reason, { vehicle: c.ref(), qos: p.qos });
  if (c.version === 5 && p.qos > 0) {
    const slot = c.ackSlot(false);
    return c.fill(slot, ackWithReason(p.qos === 1 ? 'puback' : 'pubrec', p.messageId!, rc, text(c, words)));
  }
  c.disconnect(disconnectRc, words);
}
