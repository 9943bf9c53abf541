/**
 * The operator's admin operations, one door for both the HTTP API (/admin/v1, src/api/admin)
 * and the `shekara` CLI: OEM registry, policies, vehicles and credentials, API keys, owner
 * tokens. Every operation validates its input itself (errors name the field), writes the store,
 * and — when given the running gateway (`live`) — applies the change to it at once. Without
 * `live` (the CLI), the gateway picks OEM and policy changes up at its next start or SIGHUP;
 * credential changes take effect for the next connection in any case.
 */
import type { Catalog } from '../catalog/index.js';
import type { OemConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createContext, type AdminLive, type AdminStore } from './context.js';
import { createOemAdmin, definitionOf } from './oems.js';
import { createPolicyAdmin } from './policies.js';
import { createVehicleAdmin } from './vehicles.js';
import { createAccessAdmin } from './access.js';
import type { VehicleRef } from '../vehicle-ref.js';
import type { BrokerCredentials } from '../ingest/dynsec.js';

export type { AdminLive, Actor } from './context.js';
export type { OemView, OemInput, OemPatch } from './oems.js';
export type { ActivationView, PolicyDiffView, PolicyHistoryView, UploadView } from './policies.js';
export type { VehicleView } from './vehicles.js';
export type { ApiKeyView, OwnerView } from './access.js';
export { destinationOf, OEM_ID_RE } from './oems.js';
export { API_ROLES } from './access.js';
export { checkVin } from './vehicles.js';

export interface AdminOptions {
  readonly store: AdminStore;
  /** The config's OEMs: read-only through the admin operations, and they win over the store. */
  readonly configOems: readonly OemConfig[];
  readonly live?: AdminLive;
  /** Without a live gateway (the CLI): the external broker's credentials, reached directly. */
  readonly broker?: BrokerCredentials;
  readonly now?: () => number;
  readonly log?: Logger;
  /** What a log line says instead of a VIN (src/vehicle-ref.ts). */
  readonly vehicleRef?: VehicleRef;
  /** The config's signal catalog (with its extensions): uploaded policies are checked against it. */
  readonly catalog?: Catalog;
}

/**
 * Gateway start: writes the config's OEMs into the registry. The config wins: an OEM it
 * defines is (again) a config OEM, whatever the store said; a config OEM the config no longer
 * has becomes an API OEM, disabled, so nothing is sent to it until an operator enables it.
 * Overriding an API OEM, demoting a config OEM and changing a stored config OEM's definition
 * are each logged as a warning.
 */
export async function seedConfigOems(opts: Pick<AdminOptions, 'store' | 'configOems' | 'now' | 'log'>): Promise<void> {
  const r = await opts.store.seedConfigOems(opts.configOems.map(definitionOf), (opts.now ?? Date.now)());
  for (const id of r.overridden)
    opts.log?.warn(
      { oem: id },
      'registry: the config defines an OEM that was registered through the API; the config wins',
    );
  for (const id of r.demoted)
    opts.log?.warn(
      { oem: id },
      'registry: an OEM is no longer in the config; it stays in the registry, disabled, managed through the admin API',
    );
  // Expected once after the config was edited; otherwise another instance on this store runs another config.
  for (const { id, fields } of r.changed) {
    opts.log?.warn(
      { oem: id, fields },
      `registry: OEM ${id}'s definition in this config differs from the stored one (${fields.join(', ')}); this config's is now stored for every instance sharing the store`,
    );
  }
}

export interface SyncProblem {
  readonly oem: string;
  readonly error: Error;
}

export function createAdmin(opts: AdminOptions) {
  const ctx = createContext(opts);
  const oems = createOemAdmin(ctx);
  const policies = createPolicyAdmin(ctx, oems);
  return {
    oems,
    policies,
    vehicles: createVehicleAdmin(ctx, oems),
    access: createAccessAdmin(ctx, oems),

    seedConfigOems: () => seedConfigOems(opts),

    /**
     * Applies the registry to the running gateway: every OEM's destination and state, and each
     * registry OEM's last activated policy. Idempotent: start-up and SIGHUP both call it (so
     * changes made with the CLI take effect without a restart). Problems are returned per OEM;
     * the other OEMs are applied regardless.
     */
    sync(): Promise<SyncProblem[]> {
      return ctx.serial(async () => {
        const live = ctx.live;
        if (!live) return [];
        const problems: SyncProblem[] = [];
        for (const row of await ctx.store.listOems()) {
          try {
            await oems.apply(row);
            if (row.source !== 'api') continue;
            const policy = await policies.lastActivated(row.id);
            if (policy && live.policy.policyOf(row.id)?.hash !== policy.hash) await live.policy.activatePolicy(policy);
          } catch (error) {
            problems.push({ oem: row.id, error: error as Error });
          }
        }
        return problems;
      });
    },
  };
}

export type Admin = ReturnType<typeof createAdmin>;
