/**
 * DISCONNECT from the car (MQTT 3.1.1 §3.14, MQTT 5 §3.14): it closes cleanly. MQTT 5 may
 * change the Session Expiry Interval here, but not from 0 to more [MQTT-3.14.2-2]; it is capped
 * like the one in CONNECT.
 */
import type { IDisconnectPacket } from 'mqtt-packet';
import type { Connection } from './connection.js';

export function onDisconnect(c: Connection, p: IDisconnectPacket): void {
  const s = c.session!;
  const expiry = p.properties?.sessionExpiryInterval;
  if (expiry !== undefined) {
    if (s.expirySeconds === 0 && expiry > 0)
      return c.protocolError('protocol-error', 'session expiry cannot be set at DISCONNECT when it was 0');
    s.expirySeconds = Math.min(expiry, c.ep.limits.sessionExpiryMaxSeconds);
  }
  c.destroy();
}
