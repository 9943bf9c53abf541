/**
 * How each refusal looks on the wire, per protocol version. MQTT 3.1.1 has five CONNACK return
 * codes (§3.2.2.3, Table 3.1) and no negative PUBACK; MQTT 5.0 has reason codes (§2.4) and a
 * Reason String property (§3.2.2.3.7) that says why in words.
 */

/** A refusal class: one CONNACK code per protocol version, and the words MQTT 5 carries. */
export interface WireRefusal {
  /** MQTT 3.1.1 CONNACK return code. */
  readonly v4: number;
  /** MQTT 5.0 reason code. */
  readonly v5: number;
  readonly text: string;
}

export const CONNECT_REFUSALS = {
  // 3.1.1: 0x01 "unacceptable protocol version" [MQTT-3.1.2-2]; 5.0: 0x84 (§3.1.2.2).
  'unsupported-version': { v4: 0x01, v5: 0x84, text: 'this server takes MQTT 3.1, 3.1.1 and 5.0' },
  // [MQTT-3.1.3-8] / 5.0 §3.1.3.1: the server may refuse a client id it does not allow.
  'client-id-not-vin': { v4: 0x02, v5: 0x85, text: 'the client id must be the VIN authenticated as' },
  'bad-credentials': { v4: 0x04, v5: 0x86, text: 'bad user name or password' },
  'not-authorized': { v4: 0x05, v5: 0x87, text: 'not authorized' },
  // 5.0 0x83: "the CONNECT is valid but is not accepted by this Server".
  'will-not-allowed': { v4: 0x05, v5: 0x83, text: 'a will message is not accepted here' },
  'keepalive-out-of-bounds': { v4: 0x05, v5: 0x83, text: 'keepalive outside the allowed bounds' },
  'bad-auth-method': { v4: 0x05, v5: 0x8c, text: 'no enhanced authentication: send the VIN and secret' },
  'server-unavailable': { v4: 0x03, v5: 0x88, text: 'server unavailable, try again later' },
  'server-busy': { v4: 0x03, v5: 0x89, text: 'server busy, try again later' },
  'connection-rate-exceeded': { v4: 0x03, v5: 0x9f, text: 'too many connections from this address' },
  'quota-exceeded': { v4: 0x03, v5: 0x97, text: 'too many connects by this vehicle, try again later' },
} as const satisfies Record<string, WireRefusal>;

export type ConnectRefusal = keyof typeof CONNECT_REFUSALS;

/** MQTT 5.0 reason codes used after CONNECT (§2.4, Table 2-6). */
export const RC = {
  success: 0x00,
  noSubscriptionExisted: 0x11,
  unspecified: 0x80,
  malformed: 0x81,
  protocolError: 0x82,
  notAuthorized: 0x87,
  sessionTakenOver: 0x8e,
  keepAliveTimeout: 0x8d,
  topicNameInvalid: 0x90,
  packetIdNotFound: 0x92,
  receiveMaximumExceeded: 0x93,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  messageRateTooHigh: 0x96,
  quotaExceeded: 0x97,
  administrativeAction: 0x98,
  payloadFormatInvalid: 0x99,
  wildcardsNotSupported: 0xa2,
  sharedNotSupported: 0x9e,
} as const;
