/**
 * What every GB/T 32960 connection shares: config, the intake and vehicle look-up, the refusal
 * counter, and the VIN → connection binding (one connection per VIN).
 */
import type { Gbt32960Config } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { VehicleRow } from '../../store/index.js';
import type { Gbt32960Login, Gbt32960LoginVerdict } from '../../store/gbt32960-terminals/types.js';
import type { Intake } from '../intake.js';
import type { CommandAckMessage } from '../command-ack.js';
import type { RateLimiter } from '../rate-limit.js';
import type { Gbt32960Connection } from './connection.js';

export interface Gbt32960Deps {
  /** A registered, unrevoked vehicle, or undefined. */
  readonly lookupVehicle: (vin: string) => Promise<VehicleRow | undefined>;
  /** Checks a login's ICCID and serial number against the VIN's last accepted login, and records it when it passes. */
  readonly checkLogin: (l: Gbt32960Login) => Promise<Gbt32960LoginVerdict>;
  readonly intake: Intake;
  readonly log: Logger;
  /** The per-vehicle message budget shared with MQTT and HTTPS. */
  readonly rate: RateLimiter;
  /** A terminal answered a downlink command (src/downlink): its acknowledgement. */
  readonly onCommandAck?: (vin: string, ack: CommandAckMessage) => Promise<void>;
  /** A terminal logged in: commands waiting for it can be sent. */
  readonly onCommandSubscribed?: (vin: string) => void;
}

export interface Gbt32960Endpoint {
  readonly cfg: Gbt32960Config;
  readonly deps: Gbt32960Deps;
  /** Counts a refusal (shekara.ingest.rejects{reason}) and logs it in aggregate. */
  reject(reason: string, detail?: Record<string, unknown>): void;
  /** Bumped each time a VIN's connection is cut, so a login whose look-up straddled the cut is refused. */
  generation(vin: string): number;
  /** Binds `vin` to `c`; false when another live connection holds it. */
  bind(vin: string, c: Gbt32960Connection): boolean;
}
