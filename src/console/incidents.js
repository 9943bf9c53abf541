// Incidents. The regulator sees each with its one-business-day clock, vehicles by pseudonym and
// persons by number. The operator opens one (what happened, when it was discovered, the suspected
// time scope, vehicles or OEMs), reads what Shekara pre-filled from the store and the log, exports
// the notice (a document; the export is a step of the log) and closes it with the measures taken.
import { ADMIN, REGULATOR, api, clock, download, errorBox, fmtNum, fmtTime, h, t } from './core.js';
import { incidentsTable } from './overview.js';

export async function incidentsView(main) {
  main.append(h('h1', {}, t('nav.incidents')));
  const { incidents } = await api(`${REGULATOR}/incidents`);
  main.append(h('p', { class: 'muted' }, t('incidents.regulatorNote')), incidentsTable(incidents));
}

const lines = (s) =>
  s
    .split(/[\n,;]+/)
    .map((x) => x.trim())
    .filter(Boolean);
/** Measures: one per line (a measure may hold commas). */
const byLine = (s) =>
  s
    .split('\n')
    .map((x) => x.trim())
    .filter(Boolean);
/** A datetime-local value read as UTC (the page says so). */
const utc = (v) => (v ? new Date(`${v}Z`).toISOString() : undefined);

export async function operatorIncidentsView(main) {
  main.append(h('h1', {}, t('nav.operator-incidents')));
  const detail = h('div', { id: 'incident' });
  const list = h('div', { id: 'incident-list' });
  const open = (id) => void showIncident(id, detail, refresh);
  /** The list, read again after each step so it shows the status and clock of now. */
  async function refresh() {
    const { incidents } = await api(`${ADMIN}/incidents`);
    list.replaceChildren(incidentsTable(incidents, { identifiers: true, open }));
  }
  await refresh();
  main.append(h('p', { class: 'muted' }, t('incidents.operatorNote')), list, openForm(detail, refresh), detail);
}

function openForm(detail, refresh) {
  const field = (name, input, hint) =>
    h('label', {}, t(`incident.form.${name}`), input, hint ? h('small', { class: 'muted' }, hint) : '');
  const summary = h('textarea', { name: 'summary', required: true, rows: 3, maxlength: 4000 });
  const discovered = h('input', { name: 'discoveredAt', type: 'datetime-local', required: true, step: 60 });
  const from = h('input', { name: 'scopeFrom', type: 'datetime-local', step: 60 });
  const to = h('input', { name: 'scopeTo', type: 'datetime-local', step: 60 });
  const vins = h('textarea', { name: 'vins', rows: 2, spellcheck: 'false' });
  const oems = h('input', { name: 'oems', spellcheck: 'false' });
  const measures = h('textarea', { name: 'measures', rows: 2 });
  const msg = h('div', { id: 'open-message' });
  return h(
    'form',
    {
      class: 'card',
      id: 'open-incident',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const body = {
          summary: summary.value.trim(),
          discoveredAt: utc(discovered.value),
          scopeFrom: utc(from.value),
          scopeTo: utc(to.value),
          vins: lines(vins.value.toUpperCase()),
          oems: lines(oems.value),
          measures: byLine(measures.value),
        };
        for (const k of Object.keys(body)) if (body[k] === undefined || body[k]?.length === 0) delete body[k];
        msg.replaceChildren(t('loading'));
        try {
          const i = await api(`${ADMIN}/incidents`, { method: 'POST', body: JSON.stringify(body) });
          msg.replaceChildren(h('p', { class: 'ok', 'data-result': 'opened' }, t('incident.opened')));
          await showIncident(i.id, detail, refresh);
        } catch (e) {
          msg.replaceChildren(errorBox(e));
        }
      },
    },
    h('h2', {}, t('incident.form.title')),
    field('summary', summary),
    field('discoveredAt', discovered, t('incident.form.utc')),
    field('scopeFrom', from),
    field('scopeTo', to),
    field('vins', vins, t('incident.form.vinsHint')),
    field('oems', oems, t('incident.form.oemsHint')),
    field('measures', measures, t('incident.form.measuresHint')),
    h('button', { type: 'submit', id: 'open-submit' }, t('incident.form.submit')),
    msg,
  );
}

async function showIncident(id, into, refresh) {
  await refresh().catch(() => undefined);
  into.replaceChildren(h('p', { class: 'muted' }, t('loading')));
  let i;
  try {
    i = await api(`${ADMIN}/incidents/${id}`);
  } catch (e) {
    return into.replaceChildren(errorBox(e));
  }
  const links = h('span', { class: 'links' });
  const exportNotice = async () => {
    links.replaceChildren(t('loading'));
    try {
      const blob = await api(`${ADMIN}/incidents/${id}/notice?format=html`, { method: 'POST' });
      download(blob, `incident-${id}.html`, 'notice', links);
      await showIncident(id, into, refresh);
    } catch (e) {
      links.replaceChildren(errorBox(e));
    }
  };
  const closing = h('textarea', { id: 'close-measures', rows: 2 });
  const close = async () => {
    try {
      await api(`${ADMIN}/incidents/${id}/close`, {
        method: 'POST',
        body: JSON.stringify({ measures: byLine(closing.value) }),
      });
      await showIncident(id, into, refresh);
    } catch (e) {
      into.append(errorBox(e));
    }
  };
  const row = (k, v) => [h('dt', {}, t(k)), h('dd', {}, v === '' || v === null || v === undefined ? '—' : v)];
  into.replaceChildren(
    h(
      'section',
      { class: 'card', 'data-incident-detail': i.id, 'data-status': i.status },
      h('h2', {}, i.summary),
      h(
        'dl',
        {},
        row('incident.status', t(`incident.status.${i.status}`)),
        row('incident.discovered', fmtTime(i.discoveredAt)),
        row('incident.due', clock(i)),
        row('incident.scope', `${fmtTime(i.scopeFrom)} – ${fmtTime(i.scopeTo)}`),
        row('incident.oems', i.oems.join(', ')),
        row('incident.countries', i.countries.join(', ')),
        row('incident.categories', i.categories.map((c) => t(`category.${c}`)).join(', ')),
        row('incident.crossings', fmtNum(i.crossings)),
        row(
          'incident.vehicles',
          h(
            'ul',
            { 'data-list': 'vehicles' },
            i.vehicles.map((v) =>
              h('li', {}, v.vin ?? '—', v.pseudonyms.length ? ` (${v.pseudonyms.join(', ')})` : ''),
            ),
          ),
        ),
        row(
          'incident.persons',
          h(
            'ul',
            { 'data-list': 'persons' },
            i.persons.map((p) => h('li', {}, p)),
          ),
        ),
        row(
          'incident.measures',
          h(
            'ul',
            { 'data-list': 'measures' },
            i.measures.map((m) => h('li', {}, m)),
          ),
        ),
        row('incident.contact', i.contact),
      ),
      h('h3', {}, t('incident.steps')),
      h(
        'ol',
        { 'data-list': 'steps' },
        i.steps.map((s) =>
          h(
            'li',
            { 'data-step': s.action },
            t('incident.step', { action: s.action, at: fmtTime(s.at), index: s.index }),
          ),
        ),
      ),
      h('p', { class: 'muted small' }, t('incident.stepsNote')),
      i.status === 'closed'
        ? ''
        : h(
            'div',
            { class: 'actions' },
            h('button', { id: 'export-notice', onclick: () => void exportNotice() }, t('incident.exportNotice')),
            ' ',
            links,
            h('label', {}, t('incident.closeMeasures'), closing),
            h('button', { id: 'close-incident', onclick: () => void close() }, t('incident.close')),
          ),
    ),
  );
}
