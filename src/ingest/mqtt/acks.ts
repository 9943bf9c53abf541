/**
 * The acknowledgement packets a car sends: PUBACK for a downlink command it received (MQTT
 * 3.1.1 §3.4, MQTT 5 §3.4) and PUBREL, the second half of its own QoS 2 PUBLISH (§3.6). The
 * gateway sends commands at QoS 1 at most, so a PUBREC or PUBCOMP from a car is a protocol error.
 */
import type { IPubackPacket, IPubrelPacket } from 'mqtt-packet';
import { RC } from './codes.js';
import type { Connection } from './connection.js';
import { ack, ackWithReason } from './wire.js';
import { acknowledged } from './outbound.js';

/**
 * The car has a command: it leaves the session [MQTT-4.3.2-1], and one waiting under its Receive
 * Maximum may go, after its send-time check (outbound.ts). A PUBACK for an id not in flight (not
 * ours, acknowledged twice) changes nothing.
 */
export function onPuback(c: Connection, p: IPubackPacket): void {
  acknowledged(c.ep, c.session!, p.messageId ?? 0);
}

/**
 * PUBREL: the car will not send this message again. Its id is forgotten — in the store first,
 * then in memory — and only then PUBCOMP is sent, in order with the other acknowledgements.
 * An id that is not pending still gets PUBCOMP (3.1.1 §4.3.3; MQTT 5: reason 0x92).
 */
export function onPubrel(c: Connection, p: IPubrelPacket): void {
  const s = c.session!;
  const id = p.messageId ?? 0;
  if (id === 0) return c.protocolError('packet-id-zero', 'packet identifier 0 is not allowed');
  const slot = c.ackSlot(false);
  const known = s.qos2.get(id) === true || s.storedQos2.has(id);
  if (!known) {
    return c.fill(slot, c.version === 5 ? ackWithReason('pubcomp', id, RC.packetIdNotFound) : ack('pubcomp', id));
  }
  c.ep.deps.qos2.release(s.vehicle.vin, [id]).then(
    () => {
      if (s.qos2.get(id) === true) s.qos2.delete(id);
      s.storedQos2.delete(id);
      c.fill(slot, ack('pubcomp', id));
    },
    (err: unknown) => {
      c.ep.deps.log.error(
        { err },
        'mqtt: could not release a QoS 2 packet id; disconnecting so the car resends PUBREL',
      );
      c.disconnect(RC.unspecified);
    },
  );
}

export function onUnexpectedAck(c: Connection, p: { cmd: string }): void {
  c.protocolError('protocol-error', `unexpected ${p.cmd.toUpperCase()}: commands are sent at QoS 1 at most`);
}
