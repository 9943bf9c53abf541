/**
 * The incident notice as a document (Order 481/НҚ of 9 Aug 2024: the responsible person's
 * contact, what happened and when, the measures taken, and the identifiers of the people
 * affected so they can be told), printed like the reports, with the checkpoint that covers
 * the leaf of its export.
 */
import type { ReportTable } from '../reports/types.js';
import type { Incident } from './index.js';

const iso = (ms: number | null) => (ms === null ? '—' : new Date(ms).toISOString());

export function noticeTables(i: Incident): ReportTable[] {
  return [
    {
      heading: 'Incident',
      columns: ['item', 'value'],
      rows: [
        ['incident id', i.id],
        ['what happened', i.summary],
        ['discovered', iso(i.discoveredAt)],
        ['notice due (one business day)', iso(i.dueAt)],
        ['suspected scope', `${iso(i.scopeFrom)} – ${iso(i.scopeTo)}`],
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
      rows: i.vehicles.map((v) => [v.vin ?? 'record no longer held', v.pseudonyms.join(', ')]),
    },
    {
      heading: 'Affected persons',
      note: 'Identifiers known for the affected vehicles: owner bindings and the owner and driver in the account data.',
      columns: ['identifier'],
      rows: i.persons.map((p) => [p]),
    },
    {
      heading: 'Steps (leaves of the egress log)',
      columns: ['leaf', 'step', 'at'],
      rows: i.steps.map((s) => [s.index, s.action, iso(s.at)]),
    },
  ];
}
