/**
 * The inventory and localization statement (Law of the Republic of Kazakhstan on personal data,
 * art. 12: personal data kept in a database in the country): where the store is, what
 * categories of data it holds and how many rows, what is copied abroad (nothing but the
 * approved egress, to the registered OEM endpoints), retention per category and the last sweep.
 */
import { describeStore } from '../store/index.js';
import type { InventoryCounts } from '../store/index.js';
import { type ReportDef } from './types.js';
import { iso } from '../time.js';

export interface Inventory {
  readonly store: { kind: string; location: string; schema: string | null };
  readonly categories: { category: string; rows: number; retention: string; personal: boolean }[];
  readonly counts: InventoryCounts;
  readonly copiedAbroad: { oem: string; endpoint: string; allowedCountries: readonly string[]; enabled: boolean }[];
  readonly statement: string;
  readonly lastSweep: { at: string; removed: Record<string, number> } | null;
}

export const inventoryReport: ReportDef<Inventory> = {
  name: 'inventory',
  title: 'Inventory and localization statement',
  params: {},
  async run(deps) {
    const { config } = deps;
    const counts = await deps.store.inventoryCounts();
    const r = config.retention;
    const oems = await deps.store.listOems();
    return {
      store: {
        kind: config.store.kind,
        // describeStore never shows a password.
        location: describeStore(config.store, config.dataDir),
        schema: config.store.kind === 'postgres' ? config.store.schema : null,
      },
      categories: [
        {
          category: 'raw records (payloads, decoded signals)',
          rows: counts.records,
          retention: `${r.rawRecordsDays} days`,
          personal: true,
        },
        {
          category: 'route points (positions)',
          rows: counts.routePoints,
          retention: `${r.routePointsDays} days`,
          personal: true,
        },
        {
          category: 'account data (owners, drivers)',
          rows: counts.accountData,
          retention: `${r.accountDataDays} days`,
          personal: true,
        },
        {
          category: 'quarantined payloads',
          rows: counts.quarantine,
          retention: `${r.rawRecordsDays} days`,
          personal: true,
        },
        { category: 'vehicles and credentials', rows: counts.vehicles, retention: 'while registered', personal: true },
        { category: 'consent grants', rows: counts.consents, retention: 'kept (history)', personal: true },
        { category: 'owner tokens', rows: counts.ownerBindings, retention: 'until revoked', personal: true },
        { category: 'objections', rows: counts.objections, retention: 'kept (history)', personal: true },
        {
          category: 'approved projections queued',
          rows: counts.outboxQueued,
          retention: 'until delivered',
          personal: true,
        },
        {
          category: 'egress log (pseudonyms, digests)',
          rows: counts.egressLog,
          retention: 'kept (append-only)',
          personal: false,
        },
        {
          category: 'Merkle log leaves (all kinds)',
          rows: counts.auditLeaves,
          retention: 'kept (append-only)',
          personal: false,
        },
      ],
      counts,
      copiedAbroad: oems.map((o) => ({
        oem: o.id,
        endpoint: o.endpoint,
        allowedCountries: o.allowedCountries,
        enabled: o.disabledAt === null,
      })),
      statement:
        'All personal data listed above is stored in the database named here. Nothing is copied abroad except ' +
        'the fields an active OEM policy approves, pseudonymized, sent to that OEM’s one registered endpoint; ' +
        'every such crossing is a leaf of the signed egress log.',
      lastSweep: deps.lastSweep ? { at: iso(deps.lastSweep.at), removed: { ...deps.lastSweep.removed } } : null,
    };
  },
  tables: (d) => [
    {
      heading: 'Where the data is',
      note: d.statement,
      columns: ['store', 'location', 'schema'],
      rows: [[d.store.kind, d.store.location, d.store.schema ?? '—']],
    },
    {
      heading: 'Categories held',
      columns: ['category', 'rows', 'retention', 'personal data'],
      rows: d.categories.map((c) => [c.category, c.rows, c.retention, c.personal ? 'yes' : 'no (pseudonyms only)']),
    },
    {
      heading: 'Copied abroad: the egress only',
      columns: ['OEM', 'endpoint', 'countries allowed', 'enabled'],
      rows: d.copiedAbroad.map((o) => [
        o.oem,
        o.endpoint,
        o.allowedCountries.join(', ') || 'any',
        o.enabled ? 'yes' : 'no',
      ]),
    },
    {
      heading: 'Last retention sweep',
      columns: ['at', 'removed'],
      rows: [
        d.lastSweep
          ? [
              d.lastSweep.at,
              Object.entries(d.lastSweep.removed)
                .map(([k, v]) => `${k} ${v}`)
                .join(', '),
            ]
          : ['not known here (the gateway reports it)', '—'],
      ],
    },
  ],
};
