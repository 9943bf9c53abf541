/**
 * Packets the endpoint writes. The acknowledgements on the hot path (PUBACK, PUBREC, PUBCOMP
 * with reason 0x00) are four fixed bytes in both versions — MQTT 5 §3.4.2.1: "the Reason Code
 * and Property Length can be omitted if the Reason Code is 0x00 and there are no Properties" —
 * so they are built by hand; everything else goes through mqtt-packet's generator.
 */
import mqttPacket, { type Packet } from 'mqtt-packet';

export type ProtocolVersion = 3 | 4 | 5;

const ACK_TYPE = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const;
export type AckKind = keyof typeof ACK_TYPE;

/** A success acknowledgement: 4 bytes [MQTT-3.4.0 / MQTT 5 §3.4.2.1]. */
export function ack(kind: AckKind, packetId: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b[0] = ACK_TYPE[kind];
  b[1] = 2;
  b.writeUInt16BE(packetId, 2);
  return b;
}

/** An MQTT 5 acknowledgement with a failure reason code and, when the car asked for them, words. */
export function ackWithReason(kind: AckKind, packetId: number, reasonCode: number, reasonString?: string): Buffer {
  return encode(
    {
      cmd: kind,
      messageId: packetId,
      reasonCode,
      ...(reasonString ? { properties: { reasonString } } : {}),
    } as Packet,
    5,
  );
}

export function encode(packet: Packet, protocolVersion: ProtocolVersion): Buffer {
  return mqttPacket.generate(packet, { protocolVersion });
}

/** The MQTT 5 CONNACK for a protocol level this listener does not take (§3.1.2.2): 0x84, no properties. */
export const UNSUPPORTED_VERSION_V5 = Buffer.from([0x20, 0x03, 0x00, 0x84, 0x00]);
export const PINGRESP = Buffer.from([0xd0, 0x00]);
