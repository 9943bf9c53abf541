/**
 * What every owner-rights route shares (built in rights.ts): the vehicle named by `:vin`, its
 * pseudonym, the actor a leaf names, and the purpose a body names. Each throws a ShekaraError
 * (404, 400) that the one HTTP error handler answers.
 */
import type { FastifyRequest } from 'fastify';
import type { RightsActor } from '../../audit/events.js';
import type { Store, VehicleRow } from '../../store/index.js';
import type { CompiledPurpose, PolicyEngine } from '../../policy/index.js';

/** The store queries and changes of the owner's rights (consent, report, objections, erasure). */
export type RightsStore = Pick<
  Store,
  | 'getVehicle'
  | 'listConsents'
  | 'grantConsentLogged'
  | 'revokeConsentLogged'
  | 'listObjections'
  | 'openObjection'
  | 'eraseVehicle'
  | 'egressTotals'
  | 'pseudonymsOfVin'
  | 'searchEgress'
  | 'appendAuditEvent'
>;

export interface RightsDeps {
  readonly store: RightsStore;
  readonly policy: Pick<PolicyEngine, 'policyOf' | 'pseudonymFor'>;
  readonly now: () => number;
  /** The vehicle's queued commands are checked again now (owner/index.ts OwnerDeps). */
  readonly recheckCommands?: (vin: string) => Promise<void>;
}

export interface RightsContext extends RightsDeps {
  /** The vehicle named by `:vin` (already checked to be the owner's); SHK_NOT_FOUND if not registered. */
  vehicle(req: FastifyRequest): Promise<VehicleRow>;
  /** The vehicle's pseudonym for its OEM now: what every leaf names instead of the VIN. */
  pseudonym(v: VehicleRow, at: number): string;
  actor(req: FastifyRequest): RightsActor;
  /** The purpose named in a body for the vehicle's OEM (`oem` must be the vehicle's); SHK_BAD_REQUEST naming the field if not. */
  purpose(v: VehicleRow, oem: string, id: string): CompiledPurpose;
}
