import type { Ingest } from './index.js';

/** The ingest of a process that takes no cars' data (`--role egress`). */
export function noIngest(): Ingest {
  return {
    mqttPort: undefined,
    mqttsPort: undefined,
    gbt32960Port: undefined,
    gbt32960TlsPort: undefined,
    reloadTls: () => undefined,
    counters: { accepted: 0, quarantined: 0, rejected: {} },
    waiting: 0,
    recordsWaiting: 0,
    connectedVehicles: 0,
    disconnectVehicle: () => 0,
    recheckCredentials: async () => 0,
    publishCommand: async () => {
      throw new Error('this process does not ingest (--role egress): it has no connection to any car');
    },
    isCommandSubscriber: () => false,
    commandRefusal: () => undefined,
    pollsCommands: false,
    brokerCredentials: undefined,
    close: async () => undefined,
  };
}
