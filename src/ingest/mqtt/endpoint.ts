/**
 * What every packet handler shares: the limits, the dependencies (store look-up, intake,
 * downlink hooks), the sessions, the rate limiters, and one place that counts, and logs in
 * aggregate, every refusal — no VIN, client id or username in any line.
 */
import type { LimitsConfig } from '../../config/schema.js';
import type { VehicleRow } from '../../store/index.js';
import type { Intake } from '../intake.js';
import type { RateLimiter } from '../rate-limit.js';
import type { Logger } from '../../log.js';
import type { CommandAckMessage } from '../command-ack.js';
import type { Sessions } from './session.js';
import type { Qos2Store } from './qos2.js';

export const telemetryTopic = (vin: string): string => `vehicles/${vin}/telemetry`;
export const commandTopic = (vin: string): string => `vehicles/${vin}/commands`;
export const commandAckTopic = (vin: string): string => `vehicles/${vin}/commands/ack`;

export interface MqttDeps {
  readonly lookupVehicle: (vin: string) => Promise<VehicleRow | undefined>;
  readonly intake: Intake;
  readonly log: Logger;
  /** Per-vehicle message rate, shared with HTTPS ingest and kept across reconnects. */
  readonly rate: RateLimiter;
  /** The exactly-once QoS 2 state in the store (qos2.ts). */
  readonly qos2: Qos2Store;
  /**
   * A car acknowledged a downlink command. The PUBACK is sent only after this resolves (the
   * acknowledgement is recorded); without a handler the ack topic is denied like any other.
   */
  readonly onCommandAck?: (vin: string, ack: CommandAckMessage) => Promise<void>;
  /** A car (re)subscribed to its command topic: commands waiting for it can go now. */
  readonly onCommandSubscribed?: (vin: string) => void;
  /**
   * The send-time check for a command put on the wire from the car's session rather than by the
   * downlink (re-sent on reconnect, released under the Receive Maximum: outbound.ts): resolves
   * true when it may go; false when it was stopped (and recorded) or is no longer open.
   */
  readonly recheckCommand?: (vin: string, commandId: string) => Promise<boolean>;
}

export interface Endpoint {
  readonly limits: LimitsConfig;
  readonly deps: MqttDeps;
  readonly sessions: Sessions;
  /** CONNECTs per vehicle (limits.connectsPerVehiclePerMinute). */
  readonly connects: RateLimiter;
  /** Bumped each time a VIN's connection is cut, so a CONNECT whose look-up straddled the cut is refused. */
  generation(vin: string): number;
  /** Counts a refusal (shekara.ingest.rejects{reason}) and logs it in aggregate. */
  reject(reason: string, detail?: Record<string, unknown>): void;
  /** Connections bound to a session (authenticated). */
  authenticated: number;
  /** QoS 1/2 PUBLISHes read from all cars and not yet acknowledged (limits.maxUnacknowledgedTotal). */
  unacknowledged: number;
  /** A connection stopped reading at the cap: it is let go on again, in turn, as acknowledgements leave. */
  holdForRoom(c: HeldConnection): void;
  /** Acknowledgements left or a connection closed: lets held connections read on while under the cap. */
  roomFreed(): void;
}

/** What the endpoint needs of a connection it holds back at limits.maxUnacknowledgedTotal. */
export interface HeldConnection {
  /** Handles what it held back and reads on (or is held again at once when the cap is met again). */
  release(): void;
}

/**
 * Refusals are expected and bounded (a car with a stale secret retries every few seconds): the
 * first of each reason in a window is logged with its detail, the rest as one summary line.
 */
export function createRefusalLog(
  log: Logger,
  windowMs = 10_000,
): { note(reason: string, detail: object): void; close(): void } {
  let counts = new Map<string, number>();
  const timer = setInterval(() => {
    const repeated = [...counts].filter(([, n]) => n > 1);
    if (repeated.length > 0)
      log.warn({ refusals: Object.fromEntries(repeated), windowMs }, 'mqtt: refusals in the last window');
    counts = new Map();
  }, windowMs);
  timer.unref();
  return {
    note(reason, detail) {
      const n = (counts.get(reason) ?? 0) + 1;
      counts.set(reason, n);
      if (n === 1) log.warn({ reason, ...detail }, 'mqtt: refused');
    },
    close: () => clearInterval(timer),
  };
}
