/**
 * The incident notice as a document (Order 481/НҚ of 9 Aug 2024: the responsible person's
 * contact, what happened and when, the measures taken, and the identifiers of the people
 * affected so they can be told), printed like the reports, with the checkpoint that covers
 * the leaf of its export.
 */
import type { ReportTable } from '../reports/types.js';
import type { Incident, IncidentView } from './index.js';
import { isoOrNull } from '../time.js';

/** An instant in the notice; a dash where it has not happened yet. */
const when = (ms: number | null): string => isoOrNull(ms) ?? '—';

/**
 * The notice's tables. From the operator's incident they name the VINs and persons; from the
 * regulator's view (the evidence pack) the vehicles by pseudonym and the persons by count.
 */
export function noticeTables(i: Incident | IncidentView): ReportTable[] {
  const persons = i.persons;
  return [
    {
      heading: 'Incident',
      columns: ['item', 'value'],
      rows: [
        ['incident id', i.id],
        ['what happened', i.summary],
        ['discovered', when(i.discoveredAt)],
        ['notice due (one business day)', when(i.dueAt)],
        ['suspected scope', `${when(i.scopeFrom)} – ${when(i.scopeTo)}`],
        ['responsible person (contact)', i.contact || 'not configured (incidents.contact)'],
        ['OEMs involved', i.oems.join(', ') || 'none'],
        ['destination countries', i.countries.join(', ') || 'none'],
        ['data categories', i.categories.join(', ') || 'none'],
        ['crossings in scope', i.crossings],
        ['measures taken', i.measures.join('; ') || 'none recorded'],
      ],
    },
    {
      heading: 'Affected vehicles',
      columns: ['VIN', 'pseudonyms'],
      rows: i.vehicles.map((v) => [
        'vin' in v ? (v.vin ?? 'record no longer held') : "withheld (in the operator's notice)",
        v.pseudonyms.join(', '),
      ]),
    },
    typeof persons === 'number'
      ? {
          heading: 'Affected persons',
          note: "Their identifiers are in the operator's notice; this copy gives their number.",
          columns: ['persons'],
          rows: [[persons]],
        }
      : {
          heading: 'Affected persons',
          note: 'Identifiers known for the affected vehicles: owner bindings and the owner and driver in the account data.',
          columns: ['identifier'],
          rows: persons.map((p) => [p]),
        },
    {
      heading: 'Steps (leaves of the egress log)',
      columns: ['leaf', 'step', 'at'],
      rows: i.steps.map((s) => [s.index, s.action, when(s.at)]),
    },
  ];
}

/** The notice as plain text (the evidence pack's copy): each table's heading, then its rows. */
export function noticeText(tables: readonly ReportTable[]): string {
  const cell = (c: string | number | null) => (c === null ? '—' : String(c));
  return tables
    .map((t) => {
      const rows = t.rows.length ? t.rows.map((r) => `  ${r.map(cell).join(' | ')}`) : ['  none'];
      return [t.heading, ...(t.note ? [`  (${t.note})`] : []), `  ${t.columns.join(' | ')}`, ...rows].join('\n');
    })
    .join('\n\n');
}
