/**
 * MQTT packet ids kept with the records they carried: the Store methods of this area (their
 * contract is spelled out on `Store` in ../types.ts, which composes every area).
 */
import type { Store } from '../types.js';

export type MqttQos2Store = Pick<Store, 'pendingMqttQos2' | 'releaseMqttQos2' | 'brokerDelivery'>;
