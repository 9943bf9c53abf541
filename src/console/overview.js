// The overview: what the log holds (read page by page from /entries), crossings over time per
// OEM → country with what was blocked and dead-lettered, the ledger's counters against the
// configured thresholds for a year, the latest checkpoint (its signature checked here), and the
// open incidents with their clocks.
import { REGULATOR, api, clock, errorBox, fmtNum, fmtTime, h, prefs, svg, t, table, verifierKey } from './core.js';
import { verifyCheckpointNote } from './verify.js';

const PAGE = 1000;
/** The overview reads at most this many pages of the log; past it, it says the figures are partial. */
const MAX_PAGES = 50;
const OUTCOMES = ['delivered', 'blocked', 'failed', 'dead-lettered'];

export async function overviewView(main) {
  main.append(h('h1', {}, t('nav.overview')), h('p', { class: 'muted', id: 'loading' }, t('loading')));
  const [cp, vk, incidents] = await Promise.all([
    api(`${REGULATOR}/checkpoints/latest`),
    verifierKey(),
    api(`${REGULATOR}/incidents`).catch(() => ({ incidents: [] })),
  ]);
  const { signed, error: sigError } = await checkNote(cp.note, vk.key);
  if (signed && !prefs.get('firstCheckpoint')) prefs.set('firstCheckpoint', String(signed.size));
  const entries = [];
  let partial = false;
  for (let cursor = null, page = 0; ; page++) {
    if (page === MAX_PAGES) {
      partial = true;
      break;
    }
    const r = await api(`${REGULATOR}/entries?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`);
    entries.push(...r.entries);
    cursor = r.nextCursor;
    if (!cursor) break;
  }
  const by = (o) => entries.filter((e) => e.outcome === o).length;
  const figure = (id, label, value) =>
    h(
      'div',
      { class: 'figure', 'data-figure': id },
      h('div', { class: 'value' }, fmtNum(value)),
      h('div', { class: 'label' }, label),
    );
  main.querySelector('#loading').remove();
  main.append(
    h(
      'section',
      { class: 'figures' },
      figure('entries', t('overview.entries'), entries.length),
      OUTCOMES.map((o) => figure(o, t(`outcome.${o}`), by(o))),
      figure('oems', t('overview.oems'), new Set(entries.map((e) => e.oem)).size),
      figure(
        'countries',
        t('overview.countries'),
        new Set(entries.map((e) => e.destinationCountry).filter(Boolean)).size,
      ),
      figure('checkpoint', t('overview.checkpointSize'), signed ? signed.size : cp.size),
    ),
    partial ? h('p', { class: 'warn' }, t('overview.partial', { n: fmtNum(entries.length) })) : '',
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('overview.crossings')),
      h('p', { class: 'muted small' }, t('overview.crossingsNote')),
      crossingsCharts(entries),
      crossingsTable(entries),
    ),
    thresholdsCard(entries),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('overview.openIncidents')),
      incidentsTable(incidents.incidents.filter((i) => i.status !== 'closed')),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('overview.checkpoint')),
      h('p', {}, signatureBadge(signed, sigError), ' ', t('overview.signedAt', { at: fmtTime(cp.signedAt) })),
      h('p', { class: 'muted small' }, vk.source === 'gateway' ? t('verify.keyFromGateway') : t('verify.keyPasted')),
      h('pre', { class: 'note' }, cp.note),
    ),
  );
}

/** A checkpoint note checked with the verifier key: {signed} (its size and root) or {error}. */
export async function checkNote(note, key) {
  try {
    return { signed: await verifyCheckpointNote(note, key), error: null };
  } catch (e) {
    return { signed: null, error: e.message };
  }
}

export function signatureBadge(signed, error) {
  if (signed) return h('span', { class: 'ok', 'data-result': 'signature-verified' }, t('verify.signatureOk'));
  if (error === 'ed25519-unsupported')
    return h('span', { class: 'warn', 'data-result': 'signature-unsupported' }, t('verify.ed25519Unsupported'));
  return h('span', { class: 'bad', 'data-result': 'signature-failed' }, t('verify.signatureBad'), ` (${error})`);
}

const pair = (e) => `${e.oem} → ${e.destinationCountry ?? '—'}`;

/** Outcomes per OEM → country. */
function crossingsTable(entries) {
  const rows = new Map();
  for (const e of entries) {
    const r = rows.get(pair(e)) ?? { oem: e.oem, country: e.destinationCountry ?? '—', bytes: 0 };
    r[e.outcome] = (r[e.outcome] ?? 0) + 1;
    if (e.outcome === 'delivered') r.bytes += e.payloadBytes;
    rows.set(pair(e), r);
  }
  return table(
    ['oem', 'country', 'outcome.delivered', 'bytes', 'outcome.blocked', 'outcome.failed', 'outcome.dead-lettered'].map(
      (c) => t(c),
    ),
    [...rows.values()]
      .sort((a, b) => a.oem.localeCompare(b.oem) || a.country.localeCompare(b.country))
      .map((r) => [
        r.oem,
        r.country,
        fmtNum(r.delivered ?? 0),
        fmtNum(r.bytes),
        ...OUTCOMES.slice(1).map((o) => fmtNum(r[o] ?? 0)),
      ]),
    'crossings',
  );
}

/**
 * The time buckets of the chart: days (UTC) when the log spans at most 92 days, else months; every
 * bucket from the first to the last, so a gap shows as a gap; the last 60 at most.
 */
export function buckets(entries) {
  const times = entries.map((e) => Date.parse(e.at));
  const [lo, hi] = [Math.min(...times), Math.max(...times)];
  const byDay = hi - lo <= 92 * 86_400_000;
  const keyOf = (ms) => new Date(ms).toISOString().slice(0, byDay ? 10 : 7);
  const keys = [];
  const d = new Date(lo);
  d.setUTCHours(0, 0, 0, 0);
  if (!byDay) d.setUTCDate(1);
  while (d.getTime() <= hi) {
    keys.push(keyOf(d.getTime()));
    if (byDay) d.setUTCDate(d.getUTCDate() + 1);
    else d.setUTCMonth(d.getUTCMonth() + 1);
  }
  return { keys: keys.slice(-60), keyOf };
}

/** One small chart per OEM → country: per time bucket, delivered up and blocked, failed, dead-lettered stacked on it. */
function crossingsCharts(entries) {
  if (entries.length === 0) return h('p', { class: 'muted' }, t('none'));
  const { keys, keyOf } = buckets(entries);
  const pairs = [...new Set(entries.map(pair))].sort();
  const count = new Map();
  for (const e of entries) {
    const k = `${pair(e)}|${keyOf(Date.parse(e.at))}|${e.outcome}`;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  const n = (p, b, o) => count.get(`${p}|${b}|${o}`) ?? 0;
  const max = Math.max(1, ...pairs.flatMap((p) => keys.map((b) => OUTCOMES.reduce((s, o) => s + n(p, b, o), 0))));
  const [W, H] = [320, 110];
  const bw = Math.max(2, Math.min(24, (W - 30) / keys.length - 2));
  const charts = pairs.map((p) => {
    const chart = svg('svg', { viewBox: `0 0 ${W} ${H + 24}`, class: 'chart', role: 'img', 'aria-label': p });
    keys.forEach((b, i) => {
      const x = 26 + i * (bw + 2);
      let y = H;
      for (const [oi, o] of OUTCOMES.entries()) {
        const v = n(p, b, o);
        if (!v) continue;
        const hgt = (v / max) * (H - 8);
        y -= hgt;
        chart.append(
          svg(
            'rect',
            { x, y, width: bw, height: hgt, class: `o${oi}`, 'data-bucket': b, 'data-outcome': o, 'data-count': v },
            svg('title', {}, `${p} ${b}: ${v} ${t(`outcome.${o}`)}`),
          ),
        );
      }
      if (keys.length <= 8 || i % Math.ceil(keys.length / 8) === 0)
        chart.append(
          svg(
            'text',
            { x: x + bw / 2, y: H + 14, 'text-anchor': 'middle', class: 'axis' },
            b.length > 7 ? b.slice(5) : b,
          ),
        );
    });
    chart.append(svg('text', { x: 0, y: 10, class: 'axis' }, fmtNum(max)));
    return h('figure', { class: 'small-chart', 'data-chart': p }, h('figcaption', {}, p), chart);
  });
  const legend = h(
    'ul',
    { class: 'legend' },
    OUTCOMES.map((o, oi) => h('li', {}, h('span', { class: `swatch o${oi}` }), t(`outcome.${o}`))),
  );
  return h('div', {}, h('div', { class: 'charts' }, charts), legend);
}

/**
 * The ledger's totals (distinct vehicles and persons, records, bytes) for one calendar year,
 * against the thresholds the operator configured; a counter at or past its threshold is an alert.
 */
function thresholdsCard(entries) {
  const years = [...new Set([new Date().getUTCFullYear(), ...entries.map((e) => Number(e.at.slice(0, 4)))])].sort(
    (a, b) => b - a,
  );
  const withEntries = new Set(entries.map((e) => Number(e.at.slice(0, 4))));
  const initial = withEntries.has(years[0]) ? years[0] : (years.find((y) => withEntries.has(y)) ?? years[0]);
  const out = h('div', { id: 'thresholds' });
  const select = h(
    'select',
    { id: 'threshold-year', 'aria-label': t('overview.year'), onchange: () => void load(Number(select.value)) },
    years.map((y) => h('option', { value: y, selected: y === initial }, String(y))),
  );
  async function load(year) {
    out.replaceChildren(t('loading'));
    try {
      const q = new URLSearchParams({
        format: 'json',
        from: `${year}-01-01T00:00:00Z`,
        to: `${year + 1}-01-01T00:00:00Z`,
      });
      const { data, checkpoint } = await api(`${REGULATOR}/reports/ledger?${q}`);
      out.replaceChildren(
        thresholdsTable(data),
        h('p', { class: 'muted small' }, t('entry.against', { size: checkpoint.size })),
      );
    } catch (e) {
      out.replaceChildren(errorBox(e));
    }
  }
  void load(initial);
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, t('overview.thresholds')),
    h('p', { class: 'muted small' }, t('overview.thresholdsNote')),
    h('label', {}, t('overview.year'), ' ', select),
    out,
  );
}

const COUNTERS = ['persons', 'sensitivePersons', 'vehicles', 'records', 'bytes'];

function thresholdsTable(ledger) {
  const alerted = new Set(ledger.alerts.map((a) => `${a.scope}|${a.counter}`));
  const scopeName = (s) => (s === 'all' ? t('overview.allOems') : s.replace(/^oem:/, ''));
  const cell = (tot, c) => {
    const limit = ledger.thresholds[c];
    const hit = alerted.has(`${tot.scope}|${c}`);
    return h(
      'span',
      { class: hit ? 'bad' : '', 'data-counter': `${tot.scope}|${c}`, 'data-alert': hit ? 'yes' : 'no' },
      fmtNum(tot[c]),
      limit > 0 ? ` / ${fmtNum(limit)}` : '',
      hit ? ` — ${t('overview.alert')}` : '',
    );
  };
  return h(
    'div',
    {},
    h(
      'p',
      { 'data-alerts': ledger.alerts.length },
      ledger.alerts.length
        ? h('span', { class: 'bad' }, t('overview.alerts', { n: ledger.alerts.length }))
        : h('span', { class: 'ok' }, t('overview.noAlerts')),
    ),
    table(
      [t('overview.scope'), ...COUNTERS.map((c) => t(`counter.${c}`))],
      ledger.totals.map((tot) => [scopeName(tot.scope), ...COUNTERS.map((c) => cell(tot, c))]),
      'thresholds',
    ),
    h(
      'p',
      { class: 'muted small' },
      t('overview.limits', {
        list: COUNTERS.map(
          (c) => `${t(`counter.${c}`)}: ${ledger.thresholds[c] ? fmtNum(ledger.thresholds[c]) : t('off')}`,
        ).join('; '),
      }),
    ),
  );
}

/** Incidents with their clocks; with identifiers (VINs, persons) for the operator, counts for the regulator. */
export function incidentsTable(list, { identifiers = false, open } = {}) {
  return table(
    [
      t('incident.summary'),
      t('incident.status'),
      t('incident.discovered'),
      t('incident.due'),
      t('incident.vehicles'),
      t('incident.persons'),
      t('incident.oems'),
    ],
    list.map((i) => [
      open
        ? h('a', { href: '#', 'data-incident': i.id, onclick: (ev) => (ev.preventDefault(), open(i.id)) }, i.summary)
        : i.summary,
      t(`incident.status.${i.status}`),
      fmtTime(i.discoveredAt),
      clock(i),
      identifiers ? i.vehicles.map((v) => v.vin ?? v.pseudonyms.join(', ')).join('; ') : fmtNum(i.vehicles.length),
      identifiers ? i.persons.join(', ') : fmtNum(i.persons),
      i.oems.join(', '),
    ]),
    'incidents',
  );
}
