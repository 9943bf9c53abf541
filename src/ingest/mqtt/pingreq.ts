/** PINGREQ → PINGRESP (MQTT 3.1.1 §3.12, MQTT 5 §3.12). Any packet resets the keepalive clock. */
import type { Connection } from './connection.js';
import { PINGRESP } from './wire.js';

export function onPingreq(c: Connection): void {
  c.write(PINGRESP);
}
