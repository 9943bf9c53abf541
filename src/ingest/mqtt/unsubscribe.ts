/** UNSUBSCRIBE → UNSUBACK (MQTT 3.1.1 §3.10–3.11, MQTT 5 §3.10–3.11, one reason code per filter). */
import type { IUnsubscribePacket } from 'mqtt-packet';
import { RC } from './codes.js';
import type { Connection } from './connection.js';
import { commandTopic } from './endpoint.js';
import { encode } from './wire.js';

export function onUnsubscribe(c: Connection, p: IUnsubscribePacket): void {
  const s = c.session!;
  const own = commandTopic(s.vehicle.vin);
  const reasonCodes = p.unsubscriptions.map((topic) => {
    if (topic !== own || s.commandQos === undefined) return RC.noSubscriptionExisted;
    s.commandQos = undefined;
    return RC.success;
  });
  c.write(
    encode(
      { cmd: 'unsuback', messageId: p.messageId, ...(c.version === 5 ? { granted: reasonCodes } : {}) } as never,
      c.version,
    ),
  );
}
