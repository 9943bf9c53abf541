/**
 * What every admin operation shares: the store, the config's OEMs (read-only here), the live
 * gateway when there is one (API) or none (CLI), the clock, the log, and one queue that runs
 * changes one after another, so two activations or registrations never interleave.
 */
import type { Catalog } from '../catalog/index.js';
import type { OemConfig } from '../config/schema.js';
import type { Store } from '../store/index.js';
import type { PolicyEngine } from '../policy/index.js';
import type { Egress } from '../egress/index.js';
import type { Logger } from '../log.js';
import type { BrokerCredentials } from '../ingest/dynsec.js';
import { ShekaraError } from '../errors.js';
import { ephemeralVehicleRef, type VehicleRef } from '../vehicle-ref.js';

/** The running gateway's modules an admin change is applied to at once (absent in the CLI). */
export interface AdminLive {
  readonly policy: Pick<PolicyEngine, 'upsertOem' | 'activatePolicy' | 'policyOf'>;
  readonly egress: Pick<Egress, 'upsertOem'>;
  /** Closes the vehicle's MQTT connections; returns how many. */
  disconnectVehicle(vin: string): number;
  /** The external broker's copy of the credentials, when Shekara keeps it in sync (src/ingest/dynsec.ts). */
  brokerCredentials?(): BrokerCredentials | undefined;
}

/** What admin operations use of the store: vehicles, OEMs, policies, keys and owner tokens. */
export type AdminStore = Pick<
  Store,
  | 'clearGbt32960IccidPin'
  | 'createApiKey'
  | 'createOwnerToken'
  | 'getOem'
  | 'getPolicyVersion'
  | 'getVehicle'
  | 'insertOem'
  | 'listApiKeys'
  | 'listOems'
  | 'listPolicyActivations'
  | 'listPolicyVersions'
  | 'listVehicles'
  | 'ownersOfVehicle'
  | 'putPolicyVersion'
  | 'putSecretIfAbsent'
  | 'recordPolicyActivation'
  | 'registerVehicle'
  | 'revokeApiKey'
  | 'revokeOwnerToken'
  | 'revokeVehicleCredentials'
  | 'rotateVehicleSecret'
  | 'seedConfigOems'
  | 'setOemDisabled'
  | 'updateOem'
>;

export interface AdminContext {
  readonly store: AdminStore;
  /** Config-defined OEMs by id: read-only through the admin API and CLI. */
  readonly configOems: ReadonlyMap<string, OemConfig>;
  readonly live: AdminLive | undefined;
  /** The external broker's credentials when the CLI reached them itself (no live gateway). */
  readonly broker: BrokerCredentials | undefined;
  readonly now: () => number;
  readonly log: Logger | undefined;
  /** What a log line says instead of a VIN (src/vehicle-ref.ts). */
  readonly vehicleRef: VehicleRef;
  /** OEMs the gateway holds disabled because their stored configuration cannot be used, with the reason. */
  readonly problems: Map<string, string>;
  /**
   * The signal catalog with the operator's extensions (config `catalog`): uploads are checked
   * against it, as config policy files are (default: VSS and Shekara's own).
   */
  readonly catalog: Catalog | undefined;
  /** Runs `fn` after every change queued before it has finished. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
}

export function createContext(opts: {
  store: AdminStore;
  configOems: readonly OemConfig[];
  live?: AdminLive;
  broker?: BrokerCredentials;
  now?: () => number;
  log?: Logger;
  vehicleRef?: VehicleRef;
  catalog?: Catalog;
}): AdminContext {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    store: opts.store,
    configOems: new Map(opts.configOems.map((o) => [o.id, o])),
    live: opts.live,
    broker: opts.broker,
    now: opts.now ?? Date.now,
    log: opts.log?.child({ module: 'admin' }),
    vehicleRef: opts.vehicleRef ?? ephemeralVehicleRef(),
    problems: new Map(),
    catalog: opts.catalog,
    serial<T>(fn: () => Promise<T>): Promise<T> {
      const run = tail.then(fn);
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

/** Bad input: `field` is the request field (the HTTP answer reads `body.field: reason`). */
export function badInput(field: string, reason: string): ShekaraError {
  return new ShekaraError('SHK_BAD_REQUEST', `${field}: ${reason}`, { details: { field, reason } });
}

export { notFound } from '../errors.js';

/** Who made a change, for the history and the log: `admin-api:<key id>` or `cli`. */
export type Actor = string;
