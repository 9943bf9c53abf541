/**
 * Shared reads of the reports: the egress log up to a checkpoint, and who is behind a record
 * (its vehicle and the persons known for it). Reads only.
 */
import type { EgressEntry, EgressSearch } from '../store/index.js';
import type { ReportStore } from './types.js';

const PAGE = 1_000;

/** Every entry matching `filter` whose leaf is below `size` (the checkpoint's), oldest first. */
export async function* entriesUpTo(
  store: Pick<ReportStore, 'searchEgress'>,
  filter: EgressSearch,
  size: number,
): AsyncGenerator<EgressEntry> {
  for (let after = 0; ;) {
    const rows = await store.searchEgress(filter, after, PAGE);
    if (rows.length === 0) return;
    for (const r of rows) if (r.leafIndex < size) yield r;
    after = rows.at(-1)!.seq;
  }
}

/** The account fields that identify a person, most specific first (docs/telemetry.md). */
const OWNER_IDS = ['Account.Owner.NationalId', 'Account.Owner.Email', 'Account.Owner.Phone', 'Account.Owner.Name'];
const DRIVER_IDS = ['Account.Driver.LicenseNumber', 'Account.Driver.Phone', 'Account.Driver.Name'];

/**
 * Resolves records to their vehicle and to the persons known for it: the owners the operator
 * bound to the vehicle (owner tokens) and the owner and driver named in the record's account
 * data. A person known under two identifiers counts twice: the figure is an upper bound, the
 * safe side for a threshold. Results are cached per record and per vehicle.
 */
export function personResolver(store: Pick<ReportStore, 'recordVin' | 'getRecord' | 'ownersOfVehicle'>) {
  const vins = new Map<string, string | undefined>();
  const owners = new Map<string, string[]>();
  const persons = new Map<string, string[]>();
  const vinOf = async (recordId: string) => {
    if (!vins.has(recordId)) vins.set(recordId, await store.recordVin(recordId));
    return vins.get(recordId);
  };
  const ownersOf = async (vin: string) => {
    let o = owners.get(vin);
    if (!o) {
      o = (await store.ownersOfVehicle(vin)).map((b) => `owner:${b.ownerRef}`);
      owners.set(vin, o);
    }
    return o;
  };
  return {
    vinOf,
    /** Identifiers of the persons known for a record; [] when the record is gone (retention, erasure). */
    async personsOf(recordId: string): Promise<string[]> {
      const cached = persons.get(recordId);
      if (cached) return cached;
      const vin = await vinOf(recordId);
      const out = new Set<string>();
      if (vin) {
        for (const o of await ownersOf(vin)) out.add(o);
        const account = (await store.getRecord(recordId))?.record.account ?? {};
        const pick = (keys: string[], role: string) => {
          const k = keys.find((key) => account[key] !== undefined && account[key] !== '');
          if (k) out.add(`${role}:${k}:${account[k]!.trim().toLowerCase()}`);
        };
        pick(OWNER_IDS, 'owner');
        pick(DRIVER_IDS, 'driver');
      }
      const list = [...out];
      persons.set(recordId, list);
      return list;
    },
  };
}
