/**
 * The cross-border ledger for a period: per OEM × destination country × purpose × data
 * category, the records and bytes that crossed, the distinct vehicles and distinct persons they
 * were about, and the attempts that were blocked, failed or dead-lettered; with totals per OEM
 * and overall checked against the configured thresholds (config `reports.thresholds`).
 *
 * Only what was delivered counts as crossed. A delivery carrying fields of two categories
 * counts in both rows (its bytes too), as the regulator summary counts bytes per field.
 */
import { ErrorCodes, ShekaraError } from '../errors.js';
import type { ReportsConfig } from '../config/schema.js';
import { categoriesOf, classifier, SENSITIVE, type DataCategory } from './categories.js';
import { entriesUpTo, personResolver } from './scan.js';
import { type ReportDef, type ReportParams } from './types.js';
import { iso } from '../time.js';

export interface LedgerRow {
  readonly oem: string;
  readonly country: string;
  readonly purpose: string;
  readonly category: DataCategory;
  readonly records: number;
  readonly bytes: number;
  readonly vehicles: number;
  readonly persons: number;
  readonly blocked: number;
  readonly failed: number;
  readonly deadLettered: number;
}

export interface LedgerTotals {
  readonly scope: string;
  readonly records: number;
  readonly bytes: number;
  readonly vehicles: number;
  readonly persons: number;
  readonly sensitivePersons: number;
}

export interface LedgerAlert {
  readonly scope: string;
  readonly counter: keyof ReportsConfig['thresholds'];
  readonly value: number;
  readonly threshold: number;
}

export interface Ledger {
  readonly from: string;
  readonly to: string;
  readonly rows: LedgerRow[];
  readonly totals: LedgerTotals[];
  readonly thresholds: ReportsConfig['thresholds'];
  readonly alerts: LedgerAlert[];
  /** Delivered entries whose record is gone (retention, erasure): counted by pseudonym, no persons known. */
  readonly unresolvedRecords: number;
}

/** [from, to) in ms from RFC 3339 params; default: the calendar year (UTC) so far. */
export function period(params: ReportParams, now: number): { from: number; to: number } {
  const parse = (name: string, v: string | undefined, dflt: number) => {
    if (v === undefined || v === '') return dflt;
    const ms = Date.parse(v);
    if (!Number.isFinite(ms))
      throw new ShekaraError(ErrorCodes.SHK_BAD_REQUEST, `${name}: "${v}" is not an RFC 3339 date-time or date`);
    return ms;
  };
  const from = parse('from', params.from, Date.UTC(new Date(now).getUTCFullYear(), 0, 1));
  const to = parse('to', params.to, now + 1);
  if (from >= to) throw new ShekaraError(ErrorCodes.SHK_BAD_REQUEST, `from must be before to`);
  return { from, to };
}

class Group {
  records = new Set<string>();
  bytes = 0;
  vehicles = new Set<string>();
  persons = new Set<string>();
  sensitivePersons = new Set<string>();
  blocked = 0;
  failed = 0;
  deadLettered = 0;
}

export const ledgerReport: ReportDef<Ledger> = {
  name: 'ledger',
  title: 'Cross-border ledger',
  params: { from: 'start of the period (RFC 3339; default: 1 January UTC)', to: 'end, exclusive (default: now)' },
  async run(deps, params) {
    const { from, to } = period(params, deps.now);
    const who = personResolver(deps.store);
    const classOf = classifier(deps.config.catalog);
    const rows = new Map<
      string,
      {
        key: Omit<LedgerRow, 'records' | 'bytes' | 'vehicles' | 'persons' | 'blocked' | 'failed' | 'deadLettered'>;
        g: Group;
      }
    >();
    const totals = new Map<string, Group>();
    const unresolved = new Set<string>();
    const group = <K>(m: Map<string, K>, k: string, make: () => K) => {
      let g = m.get(k);
      if (!g) m.set(k, (g = make()));
      return g;
    };
    for await (const e of entriesUpTo(deps.store, { from, to }, deps.checkpoint.size)) {
      const country = e.destinationCountry ?? 'unknown';
      const cats = categoriesOf(e.fieldsSent, classOf);
      const delivered = e.outcome === 'delivered';
      const vin = delivered ? await who.vinOf(e.recordId) : undefined;
      if (delivered && !vin) unresolved.add(e.recordId);
      const vehicle = vin ? `vin:${vin}` : `pseudonym:${e.pseudonym}`;
      const persons = delivered ? await who.personsOf(e.recordId) : [];
      for (const category of cats.length > 0 ? cats : (['technical'] as DataCategory[])) {
        const k = JSON.stringify([e.oem, country, e.purpose, category]);
        const { g } = group(rows, k, () => ({
          key: { oem: e.oem, country, purpose: e.purpose, category },
          g: new Group(),
        }));
        if (e.outcome === 'blocked') g.blocked++;
        else if (e.outcome === 'failed') g.failed++;
        else if (e.outcome === 'dead-lettered') g.deadLettered++;
        if (!delivered) continue;
        g.records.add(e.recordId);
        g.bytes += e.payloadBytes ?? 0;
        g.vehicles.add(vehicle);
        for (const p of persons) g.persons.add(p);
      }
      if (!delivered) continue;
      for (const scope of [`oem:${e.oem}`, 'all']) {
        const t = group(totals, scope, () => new Group());
        t.records.add(e.recordId);
        t.bytes += e.payloadBytes ?? 0;
        t.vehicles.add(vehicle);
        for (const p of persons) {
          t.persons.add(p);
          if (cats.some((c) => SENSITIVE.has(c))) t.sensitivePersons.add(p);
        }
      }
    }
    const totalRows: LedgerTotals[] = [...totals.entries()]
      .map(([scope, t]) => ({
        scope,
        records: t.records.size,
        bytes: t.bytes,
        vehicles: t.vehicles.size,
        persons: t.persons.size,
        sensitivePersons: t.sensitivePersons.size,
      }))
      .sort((a, b) => (a.scope === 'all' ? 1 : b.scope === 'all' ? -1 : a.scope < b.scope ? -1 : 1));
    const thresholds = deps.config.reports.thresholds;
    const alerts: LedgerAlert[] = [];
    for (const t of totalRows)
      for (const counter of Object.keys(thresholds) as (keyof typeof thresholds)[]) {
        const threshold = thresholds[counter];
        if (threshold > 0 && t[counter] >= threshold)
          alerts.push({ scope: t.scope, counter, value: t[counter], threshold });
      }
    return {
      from: iso(from),
      to: iso(to),
      rows: [...rows.values()]
        .map(({ key, g }) => ({
          ...key,
          records: g.records.size,
          bytes: g.bytes,
          vehicles: g.vehicles.size,
          persons: g.persons.size,
          blocked: g.blocked,
          failed: g.failed,
          deadLettered: g.deadLettered,
        }))
        .sort((a, b) =>
          JSON.stringify([a.oem, a.country, a.purpose, a.category]).localeCompare(
            JSON.stringify([b.oem, b.country, b.purpose, b.category]),
          ),
        ),
      totals: totalRows,
      thresholds,
      alerts,
      unresolvedRecords: unresolved.size,
    };
  },
  tables: (d) => [
    {
      heading: `Crossings ${d.from} – ${d.to}`,
      note: 'Records, bytes, vehicles and persons count deliveries only; a delivery with fields of two categories counts in both rows.',
      columns: [
        'OEM',
        'country',
        'purpose',
        'category',
        'records',
        'bytes',
        'vehicles',
        'persons',
        'blocked',
        'failed',
        'dead-lettered',
      ],
      rows: d.rows.map((r) => [
        r.oem,
        r.country,
        r.purpose,
        r.category,
        r.records,
        r.bytes,
        r.vehicles,
        r.persons,
        r.blocked,
        r.failed,
        r.deadLettered,
      ]),
    },
    {
      heading: 'Totals',
      columns: ['scope', 'records', 'bytes', 'vehicles', 'persons', 'persons (sensitive data)'],
      rows: d.totals.map((t) => [t.scope, t.records, t.bytes, t.vehicles, t.persons, t.sensitivePersons]),
    },
    {
      heading: 'Threshold alerts',
      note: `Thresholds: ${Object.entries(d.thresholds)
        .map(([k, v]) => `${k} ${v === 0 ? 'off' : v}`)
        .join(', ')}.`,
      columns: ['scope', 'counter', 'value', 'threshold'],
      rows: d.alerts.map((a) => [a.scope, a.counter, a.value, a.threshold]),
    },
  ],
};
