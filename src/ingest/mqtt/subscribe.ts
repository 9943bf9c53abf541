/**
 * SUBSCRIBE → SUBACK (MQTT 3.1.1 §3.8–3.9, MQTT 5 §3.8–3.9). A car may subscribe to exactly
 * one filter: its own `vehicles/{VIN}/commands`, no wildcards. Every other filter is refused in
 * the SUBACK — 0x80 in 3.1.1 [MQTT-3.9.3-2 lists it as Failure]; in MQTT 5 0x87 Not authorized,
 * 0xA2 for a wildcard, 0x9E for a shared subscription, with a reason string — and the
 * connection stays. Subscription options and user properties change nothing.
 */
import type { ISubscribePacket } from 'mqtt-packet';
import { RC } from './codes.js';
import type { Connection } from './connection.js';
import { commandTopic } from './endpoint.js';
import { encode } from './wire.js';

export function onSubscribe(c: Connection, p: ISubscribePacket): void {
  const s = c.session!;
  const own = commandTopic(s.vehicle.vin);
  let subscribed = false;
  const denied: string[] = [];
  const granted = p.subscriptions.map(({ topic, qos }) => {
    if (topic === own) {
      s.commandQos = qos;
      subscribed = true;
      return qos;
    }
    c.ep.reject('subscribe-topic-denied');
    if (c.version !== 5) return 0x80;
    if (topic.startsWith('$share/'))
      return (denied.push('shared subscriptions are not offered'), RC.sharedNotSupported);
    if (/[+#]/.test(topic)) return (denied.push('wildcards are not offered'), RC.wildcardsNotSupported);
    denied.push('a car subscribes only to its own command topic');
    return RC.notAuthorized;
  });
  const reasonString = c.version === 5 && c.problemInfo && denied.length > 0 ? denied[0] : undefined;
  c.write(
    encode(
      {
        cmd: 'suback',
        messageId: p.messageId,
        granted,
        ...(reasonString ? { properties: { reasonString } } : {}),
      } as never,
      c.version,
    ),
  );
  if (subscribed) c.ep.deps.onCommandSubscribed?.(s.vehicle.vin);
}
