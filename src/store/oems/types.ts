/**
 * The OEM registry's contract, shared by both stores (src/store/oems/{sqlite,pg}.ts): config OEMs
 * seeded at every start, API OEMs defined at run time. Re-exported by ../types.ts, which composes
 * `Store`.
 */

/** Where an OEM is defined: the config file (read-only through the API) or the admin API/CLI. */
export type OemSource = 'config' | 'api';

/** One OEM of the registry (./sqlite.ts, ./pg.ts). */
export interface OemRow {
  readonly id: string;
  readonly name: string;
  /** The one destination approved projections are POSTed to. */
  readonly endpoint: string;
  readonly allowedCountries: readonly string[];
  readonly allowPrivateNetworks: boolean;
  /** Config OEMs only: a file holding the HMAC key; otherwise the key is in the local secrets. */
  readonly signingKeyFile: string | null;
  readonly mtls: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string } | null;
  readonly source: OemSource;
  /** Disabled OEMs send nothing; their pending deliveries wait. */
  readonly disabledAt: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type OemDefinition = Pick<
  OemRow,
  'id' | 'name' | 'endpoint' | 'allowedCountries' | 'allowPrivateNetworks' | 'signingKeyFile' | 'mtls'
>;
/** A field of a definition other than its id. */
export type OemDefinitionField = Exclude<keyof OemDefinition, 'id'>;

/** The OEM registry: config OEMs are seeded into it at start, API OEMs live only here. */
export interface OemRegistryStore {
  /** Adds an API-defined OEM; SHK_ADMIN_CONFLICT if the id is taken. */
  insertOem(o: OemDefinition & { now: number }): Promise<OemRow>;
  /** Changes an OEM's definition (not its id or source); undefined when no such OEM. */
  updateOem(id: string, patch: Partial<Omit<OemDefinition, 'id'>>, now: number): Promise<OemRow | undefined>;
  /** `disabledAt` null enables. Returns the row, or undefined when no such OEM. */
  setOemDisabled(id: string, disabledAt: number | null, now: number): Promise<OemRow | undefined>;
  getOem(id: string): Promise<OemRow | undefined>;
  listOems(): Promise<OemRow[]>;
  /**
   * At gateway start, in one transaction: each config OEM is written as source 'config'
   * (the config wins over an API definition of the same id), and a 'config' row whose id the
   * config no longer has becomes an API OEM, disabled. Returns the ids so demoted, the ids
   * whose API definition the config overwrote (`overridden`), and the config OEMs whose stored
   * 'config' definition differed from this one, with the fields that did (`changed`: another
   * instance's config, or this config edited since the last start). The comparison is the
   * shared `definitionDiff` (./definition.ts) on every backend: a restart with the same
   * config changes nothing, not even `updatedAt`, and reports nothing.
   */
  seedConfigOems(oems: readonly OemDefinition[], now: number): Promise<SeedResult>;
}

/** What seeding the config's OEMs found in the registry (OemRegistryStore.seedConfigOems). */
export interface SeedResult {
  readonly demoted: string[];
  readonly overridden: string[];
  readonly changed: OemDefinitionChange[];
}

/** A config OEM whose stored 'config' definition this config replaced: which fields differed. */
export interface OemDefinitionChange {
  readonly id: string;
  readonly fields: OemDefinitionField[];
}
