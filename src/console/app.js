// The console: one page, no framework, no build step. It talks only to the gateway's own API
// (/regulator/v1 with a regulator key, /admin/v1 with an operator key), sends the key as a
// bearer header (no cookie, so no cross-site request can use it), keeps it in sessionStorage
// (gone when the tab closes) and checks every proof in the browser (verify.js).
import { STRINGS, LANGUAGES } from './strings.js';
import { checkEntry, fromB64, parseVerifierKey, verified, verifyCheckpointNote, verifyConsistency } from './verify.js';

const REGULATOR = '/regulator/v1';
const ADMIN = '/admin/v1';
const PAGE = 1000;
/** The overview reads at most this many pages of the log; past it, it says the figures are partial. */
const MAX_PAGES = 50;

const session = {
  get: (k) => sessionStorage.getItem(`shekara.${k}`),
  set: (k, v) => (v === null ? sessionStorage.removeItem(`shekara.${k}`) : sessionStorage.setItem(`shekara.${k}`, v)),
};

let lang =
  session.get('lang') ?? (LANGUAGES.includes(navigator.language?.slice(0, 2)) ? navigator.language.slice(0, 2) : 'en');

/** The text of `key` in the current language, `{name}` placeholders filled from `vars`. */
function t(key, vars = {}) {
  const s = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

/** An element: `h('p', {class: 'x', onclick: f}, 'text', child)`. Text is always text, never markup. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity))
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const fmtNum = (n) => new Intl.NumberFormat(lang === 'kk' ? 'kk-KZ' : lang === 'ru' ? 'ru-RU' : 'en-US').format(n);
const fmtTime = (v) =>
  v === null || v === undefined
    ? '—'
    : new Intl.DateTimeFormat(lang === 'kk' ? 'kk-KZ' : lang === 'ru' ? 'ru-RU' : 'en-GB', {
        dateStyle: 'medium',
        timeStyle: 'medium',
        timeZone: 'UTC',
      }).format(new Date(v)) + ' UTC';

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
  }
}

/** GET (or another method) on the gateway with the session's key; JSON back, or an ApiError. */
async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: {
      authorization: `Bearer ${session.get('key')}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return (res.headers.get('content-type') ?? '').includes('json') ? res.json() : res.blob();
}

/** The verifier key: the one the user pasted (from the operator, out of band), else the gateway's own. */
async function verifierKey() {
  const pasted = session.get('vkey');
  if (pasted) return { key: await parseVerifierKey(pasted), source: 'pasted' };
  const { verifierKey } = await api(`${REGULATOR}/pubkey`);
  return { key: await parseVerifierKey(verifierKey), source: 'gateway' };
}

const app = document.getElementById('app');

function errorBox(e) {
  if (e instanceof ApiError && e.status === 403)
    return h(
      'div',
      { class: 'refused', 'data-result': 'refused' },
      h('strong', {}, t('refused.title')),
      h('p', {}, t('refused.body')),
      h('p', { class: 'muted' }, e.message),
    );
  if (e instanceof ApiError && e.status === 401) {
    signOut();
    return h('div', { class: 'error' }, t('signin.rejected'));
  }
  if (e.message === 'no-webcrypto') return h('div', { class: 'error' }, t('verify.noWebcrypto'));
  return h('div', { class: 'error' }, t('error'), ' ', e.message);
}

function signOut() {
  session.set('key', null);
  session.set('role', null);
  session.set('vkey', null);
  go('#/');
}

/** Shows `hash`: a change of hash renders (hashchange); the same hash renders again. */
function go(hash) {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

const NAV = {
  regulator: ['overview', 'log', 'checkpoints', 'reports', 'incidents', 'operator'],
  operator: ['operator', 'operator-incidents', 'reports'],
};

function header(role, current) {
  const select = h(
    'select',
    {
      id: 'lang',
      'aria-label': t('language'),
      onchange: (ev) => {
        lang = ev.target.value;
        session.set('lang', lang);
        render();
      },
    },
    LANGUAGES.map((l) => h('option', { value: l, selected: l === lang }, STRINGS[l]['language.name'])),
  );
  return h(
    'header',
    {},
    h('div', { class: 'brand' }, h('strong', {}, 'Shekara'), ' ', h('span', { class: 'muted' }, t('app.subtitle'))),
    role
      ? h(
          'nav',
          {},
          NAV[role].map((v) =>
            h('a', { href: `#/${v}`, class: v === current ? 'current' : null, 'data-view': v }, t(`nav.${v}`)),
          ),
        )
      : null,
    h(
      'div',
      { class: 'tools' },
      select,
      role ? h('span', { class: 'badge', id: 'role' }, t(`role.${role}`)) : null,
      role ? h('button', { id: 'signout', onclick: signOut }, t('signout')) : null,
    ),
  );
}

// ——— Sign in ———

function signInView() {
  const key = h('input', { id: 'key', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const vkey = h('input', {
    id: 'vkey',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'shekara.local/egress-log+…+…',
  });
  const msg = h('div', { id: 'signin-message' });
  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: async (ev) => {
        ev.preventDefault();
        msg.replaceChildren(t('signin.checking'));
        const role = await probeRole(key.value.trim());
        if (!role) return msg.replaceChildren(h('div', { class: 'error' }, t('signin.rejected')));
        if (vkey.value.trim()) {
          try {
            await parseVerifierKey(vkey.value.trim());
          } catch {
            return msg.replaceChildren(h('div', { class: 'error' }, t('signin.badVerifierKey')));
          }
        }
        session.set('key', key.value.trim());
        session.set('role', role);
        session.set('vkey', vkey.value.trim() || null);
        go(role === 'regulator' ? '#/overview' : '#/operator');
      },
    },
    h('h1', {}, t('signin.title')),
    h('p', {}, t('signin.intro')),
    h('label', {}, t('signin.key'), key),
    h('label', {}, t('signin.verifierKey'), vkey, h('small', { class: 'muted' }, t('signin.verifierKeyHint'))),
    h('button', { type: 'submit', id: 'signin' }, t('signin.submit')),
    msg,
    h('p', { class: 'muted small' }, t('signin.storage')),
  );
  return form;
}

/** Which surface the key opens: a read of the log's public key (regulator) or of the admin API's document (operator). */
async function probeRole(key) {
  for (const [role, path] of [
    ['regulator', `${REGULATOR}/pubkey`],
    ['operator', `${ADMIN}/openapi.json`],
  ]) {
    const res = await fetch(path, {
      headers: { authorization: `Bearer ${key}` },
      credentials: 'omit',
      cache: 'no-store',
    });
    if (res.ok) return role;
  }
  return null;
}

// ——— Overview ———

async function overviewView(main) {
  main.append(h('h1', {}, t('nav.overview')), h('p', { class: 'muted', id: 'loading' }, t('loading')));
  const [cp, vk, incidents] = await Promise.all([
    api(`${REGULATOR}/checkpoints/latest`),
    verifierKey(),
    api(`${REGULATOR}/incidents`).catch(() => ({ incidents: [] })),
  ]);
  let signed = null;
  let sigError = null;
  try {
    signed = await verifyCheckpointNote(cp.note, vk.key);
  } catch (e) {
    sigError = e.message;
  }
  if (signed) {
    const first = session.get('firstCheckpoint');
    if (!first) session.set('firstCheckpoint', String(signed.size));
  }
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
  const oems = new Set(entries.map((e) => e.oem));
  const countries = new Set(entries.map((e) => e.destinationCountry).filter(Boolean));
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
      figure('delivered', t('outcome.delivered'), by('delivered')),
      figure('blocked', t('outcome.blocked'), by('blocked')),
      figure('failed', t('outcome.failed'), by('failed')),
      figure('dead-lettered', t('outcome.dead-lettered'), by('dead-lettered')),
      figure('oems', t('overview.oems'), oems.size),
      figure('countries', t('overview.countries'), countries.size),
      figure('checkpoint', t('overview.checkpointSize'), signed ? signed.size : cp.size),
    ),
    partial ? h('p', { class: 'warn' }, t('overview.partial', { n: fmtNum(entries.length) })) : '',
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('overview.checkpoint')),
      h('p', {}, signatureBadge(signed, sigError), ' ', t('overview.signedAt', { at: fmtTime(cp.signedAt) })),
      h('p', { class: 'muted small' }, vk.source === 'gateway' ? t('verify.keyFromGateway') : t('verify.keyPasted')),
      h('pre', { class: 'note' }, cp.note),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('overview.crossings')),
      crossingsChart(entries),
      crossingsTable(entries),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('overview.openIncidents')),
      incidentsTable(incidents.incidents.filter((i) => i.status !== 'closed')),
    ),
  );
}

function signatureBadge(signed, error) {
  if (signed) return h('span', { class: 'ok', 'data-result': 'signature-verified' }, t('verify.signatureOk'));
  if (error === 'ed25519-unsupported')
    return h('span', { class: 'warn', 'data-result': 'signature-unsupported' }, t('verify.ed25519Unsupported'));
  return h('span', { class: 'bad', 'data-result': 'signature-failed' }, t('verify.signatureBad'), ` (${error})`);
}

/** Delivered records per OEM → country. */
function crossingsTable(entries) {
  const rows = new Map();
  for (const e of entries) {
    const k = `${e.oem}\u0000${e.destinationCountry ?? '—'}`;
    const r = rows.get(k) ?? {
      oem: e.oem,
      country: e.destinationCountry ?? '—',
      delivered: 0,
      bytes: 0,
      blocked: 0,
      failed: 0,
      dead: 0,
    };
    if (e.outcome === 'delivered') {
      r.delivered++;
      r.bytes += e.payloadBytes;
    } else if (e.outcome === 'blocked') r.blocked++;
    else if (e.outcome === 'failed') r.failed++;
    else r.dead++;
    rows.set(k, r);
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
        fmtNum(r.delivered),
        fmtNum(r.bytes),
        fmtNum(r.blocked),
        fmtNum(r.failed),
        fmtNum(r.dead),
      ]),
    'crossings',
  );
}

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs = {}, ...children) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
};

/** Delivered records per day (UTC), stacked per OEM → country: a plain SVG, no library. */
function crossingsChart(entries) {
  const delivered = entries.filter((e) => e.outcome === 'delivered');
  if (delivered.length === 0) return h('p', { class: 'muted' }, t('none'));
  const series = [...new Set(delivered.map((e) => `${e.oem} → ${e.destinationCountry ?? '—'}`))].sort();
  const days = [...new Set(delivered.map((e) => e.at.slice(0, 10)))].sort().slice(-60);
  const count = new Map();
  for (const e of delivered) {
    const k = `${e.at.slice(0, 10)}|${e.oem} → ${e.destinationCountry ?? '—'}`;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  const max = Math.max(...days.map((d) => series.reduce((n, s) => n + (count.get(`${d}|${s}`) ?? 0), 0)));
  const W = 640;
  const H = 180;
  const bw = Math.max(4, Math.min(40, (W - 40) / days.length - 4));
  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H + 30}`,
    class: 'chart',
    role: 'img',
    'aria-label': t('overview.crossings'),
  });
  days.forEach((d, i) => {
    let y = H;
    const x = 30 + i * (bw + 4);
    series.forEach((s, si) => {
      const n = count.get(`${d}|${s}`) ?? 0;
      if (!n) return;
      const hgt = (n / max) * (H - 10);
      y -= hgt;
      chart.append(
        svg('rect', { x, y, width: bw, height: hgt, class: `s${si % 6}` }, svg('title', {}, `${d} ${s}: ${n}`)),
      );
    });
    if (days.length <= 12 || i % Math.ceil(days.length / 12) === 0)
      chart.append(svg('text', { x: x + bw / 2, y: H + 14, 'text-anchor': 'middle', class: 'axis' }, d.slice(5)));
  });
  chart.append(svg('text', { x: 2, y: 12, class: 'axis' }, fmtNum(max)));
  const legend = h(
    'ul',
    { class: 'legend' },
    series.map((s, si) => h('li', {}, h('span', { class: `swatch s${si % 6}` }), s)),
  );
  return h('div', {}, chart, legend);
}

function table(columns, rows, id) {
  if (rows.length === 0) return h('p', { class: 'muted' }, t('none'));
  return h(
    'table',
    id ? { 'data-table': id } : {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', {}, c)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          r.map((c) => h('td', {}, c ?? '—')),
        ),
      ),
    ),
  );
}

function incidentsTable(list, withIdentifiers = false) {
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
      i.summary,
      t(`incident.status.${i.status}`),
      fmtTime(i.discoveredAt),
      h('span', { class: i.overdue ? 'bad' : '' }, fmtTime(i.dueAt), i.overdue ? ` — ${t('incident.overdue')}` : ''),
      withIdentifiers ? i.vehicles.map((v) => v.vin ?? v.pseudonyms.join(', ')).join('; ') : fmtNum(i.vehicles.length),
      withIdentifiers ? i.persons.join(', ') : fmtNum(i.persons),
      i.oems.join(', '),
    ]),
    'incidents',
  );
}

// ——— The log ———

function logView(main) {
  const field = (name, attrs = {}) => h('label', {}, t(`search.${name}`), h('input', { name, ...attrs }));
  const results = h('div', { id: 'results' });
  const detail = h('div', { id: 'entry' });
  const form = h(
    'form',
    {
      class: 'card search',
      onsubmit: (ev) => {
        ev.preventDefault();
        void search(new FormData(form), null);
      },
    },
    field('vin', { maxlength: 17, spellcheck: 'false' }),
    field('oem'),
    field('country', { maxlength: 2 }),
    h(
      'label',
      {},
      t('search.outcome'),
      h(
        'select',
        { name: 'outcome' },
        h('option', { value: '' }, t('any')),
        ['delivered', 'failed', 'dead-lettered', 'blocked'].map((o) => h('option', { value: o }, t(`outcome.${o}`))),
      ),
    ),
    field('field', { placeholder: 'Vehicle.Speed' }),
    field('from', { type: 'datetime-local' }),
    field('to', { type: 'datetime-local' }),
    h('button', { type: 'submit', id: 'search' }, t('search.submit')),
    h('p', { class: 'muted small' }, t('search.vinLogged')),
  );
  async function search(data, cursor) {
    const q = new URLSearchParams();
    for (const [k, v] of data.entries()) {
      const s = String(v).trim();
      if (!s) continue;
      q.set(k, k === 'from' || k === 'to' ? new Date(`${s}Z`).toISOString() : s);
    }
    q.set('limit', '50');
    if (cursor) q.set('cursor', cursor);
    try {
      const r = await api(`${REGULATOR}/entries?${q}`);
      results.replaceChildren(
        table(
          ['seq', 'at', 'oem', 'country', 'purpose', 'search.outcome', 'pseudonym', ''].map((c) => (c ? t(c) : '')),
          r.entries.map((e) => [
            String(e.seq),
            fmtTime(e.at),
            e.oem,
            e.destinationCountry,
            e.purpose,
            t(`outcome.${e.outcome}`),
            h('code', {}, e.pseudonym),
            h(
              'button',
              { class: 'small', 'data-seq': e.seq, onclick: () => void showEntry(e.seq, detail) },
              t('entry.verify'),
            ),
          ]),
          'entries',
        ),
        r.nextCursor
          ? h('button', { id: 'next', onclick: () => void search(data, r.nextCursor) }, t('search.next'))
          : '',
      );
    } catch (e) {
      results.replaceChildren(errorBox(e));
    }
  }
  main.append(h('h1', {}, t('nav.log')), form, results, detail);
  void search(new FormData(form), null);
}

async function showEntry(seq, into) {
  into.replaceChildren(h('p', { class: 'muted' }, t('verify.checking')));
  try {
    const [answer, vk] = await Promise.all([api(`${REGULATOR}/entries/${seq}`), verifierKey()]);
    const steps = await checkEntry(answer, vk.key);
    const ok = verified(steps);
    const e = answer.entry;
    into.replaceChildren(
      h(
        'section',
        { class: 'card', id: 'proof' },
        h('h2', {}, t('entry.title', { seq: e.seq })),
        h(
          'p',
          { class: ok ? 'result ok' : 'result bad', id: 'proof-result', 'data-result': ok ? 'verified' : 'failed' },
          ok ? t('verify.verified') : t('verify.failed'),
        ),
        h(
          'ol',
          { class: 'steps' },
          steps.map((s) =>
            h(
              'li',
              { class: s.ok ? 'ok' : 'bad', 'data-step': s.step },
              s.ok ? '✓ ' : '✗ ',
              t(`step.${s.step}`),
              s.detail ? ` (${s.detail})` : '',
            ),
          ),
        ),
        h(
          'p',
          { class: 'muted small' },
          t('entry.against', { size: answer.checkpoint.size }),
          ' ',
          vk.source === 'gateway' ? t('verify.keyFromGateway') : t('verify.keyPasted'),
        ),
        h(
          'dl',
          {},
          [
            'at',
            'oem',
            'purpose',
            'destination',
            'destinationCountry',
            'pseudonym',
            'outcome',
            'fieldsSent',
            'fieldsDropped',
            'payloadSha256',
            'payloadBytes',
            'policyHash',
          ].map((k) => [
            h('dt', {}, k),
            h('dd', {}, Array.isArray(e[k]) ? e[k].join(', ') || '—' : String(e[k] ?? '—')),
          ]),
        ),
        h('details', {}, h('summary', {}, t('entry.leaf')), h('pre', {}, answer.leaf.canonical)),
      ),
    );
  } catch (err) {
    into.replaceChildren(errorBox(err));
  }
}

// ——— Checkpoints ———

async function checkpointsView(main) {
  main.append(h('h1', {}, t('nav.checkpoints')));
  const [cp, vk] = await Promise.all([api(`${REGULATOR}/checkpoints/latest`), verifierKey()]);
  let latest = null;
  let err = null;
  try {
    latest = await verifyCheckpointNote(cp.note, vk.key);
  } catch (e) {
    err = e.message;
  }
  const out = h('div', { id: 'consistency' });
  const from = h('input', { id: 'from-size', type: 'number', min: 1, value: session.get('firstCheckpoint') ?? '1' });
  main.append(
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('checkpoints.latest', { size: cp.size })),
      h('p', {}, signatureBadge(latest, err)),
      h('pre', { class: 'note' }, cp.note),
    ),
    h(
      'form',
      {
        class: 'card',
        onsubmit: async (ev) => {
          ev.preventDefault();
          out.replaceChildren(t('verify.checking'));
          try {
            const older = await api(`${REGULATOR}/checkpoints/${Number(from.value)}`);
            const a = await verifyCheckpointNote(older.note, vk.key);
            const b = latest ?? (await verifyCheckpointNote(cp.note, vk.key));
            const proof = await api(`${REGULATOR}/consistency?from=${a.size}&to=${b.size}`);
            const ok = await verifyConsistency(a.size, b.size, proof.proof.map(fromB64), a.root, b.root);
            out.replaceChildren(
              h(
                'p',
                { class: ok ? 'result ok' : 'result bad', 'data-result': ok ? 'verified' : 'failed' },
                ok
                  ? t('checkpoints.consistent', { a: a.size, b: b.size })
                  : t('checkpoints.inconsistent', { a: a.size, b: b.size }),
              ),
            );
          } catch (e) {
            out.replaceChildren(errorBox(e));
          }
        },
      },
      h('h2', {}, t('checkpoints.consistency')),
      h('p', { class: 'muted' }, t('checkpoints.consistencyIntro')),
      h('label', {}, t('checkpoints.fromSize'), from),
      h('button', { type: 'submit', id: 'check-consistency' }, t('checkpoints.check')),
      out,
    ),
  );
}

// ——— Reports ———

async function reportsView(main, prefix) {
  main.append(h('h1', {}, t('nav.reports')));
  const { reports } = await api(`${prefix}/reports`);
  for (const r of reports) {
    const inputs = Object.keys(r.params).map((p) =>
      h('label', {}, t(`report.param.${p}`), h('input', { name: p, type: 'date' })),
    );
    const links = h('span', { class: 'links' });
    const fetchAs = async (format) => {
      const q = new URLSearchParams({ format });
      for (const i of inputs) {
        const input = i.querySelector('input');
        if (input.value) q.set(input.name, new Date(`${input.value}T00:00:00Z`).toISOString());
      }
      links.replaceChildren(t('loading'));
      try {
        const body = await api(`${prefix}/reports/${r.name}?${q}`);
        const blob =
          body instanceof Blob ? body : new Blob([JSON.stringify(body, null, 2)], { type: 'application/json' });
        const a = h(
          'a',
          { href: URL.createObjectURL(blob), download: `shekara-${r.name}.${format}`, 'data-download': r.name },
          t('report.save', { file: `shekara-${r.name}.${format}` }),
        );
        links.replaceChildren(a);
        a.click();
      } catch (e) {
        links.replaceChildren(errorBox(e));
      }
    };
    main.append(
      h(
        'section',
        { class: 'card', 'data-report': r.name },
        h('h2', {}, t(`report.${r.name}`)),
        h('p', { class: 'muted' }, t(`report.${r.name}.about`)),
        inputs,
        h('button', { onclick: () => void fetchAs('html'), 'data-format': 'html' }, t('report.html')),
        ' ',
        h('button', { onclick: () => void fetchAs('json'), 'data-format': 'json' }, t('report.json')),
        ' ',
        links,
      ),
    );
  }
  main.append(h('p', { class: 'muted small' }, t('report.pdf')));
}

// ——— Incidents (regulator) ———

async function incidentsView(main) {
  main.append(h('h1', {}, t('nav.incidents')));
  const { incidents } = await api(`${REGULATOR}/incidents`);
  main.append(h('p', { class: 'muted' }, t('incidents.regulatorNote')), incidentsTable(incidents));
}

// ——— Operator pages (admin key) ———

async function operatorView(main) {
  main.append(h('h1', {}, t('nav.operator')));
  const { data, checkpoint } = await api(`${ADMIN}/reports/access`);
  main.append(
    h('p', { class: 'muted' }, t('operator.accessIntro')),
    table(
      [
        t('key.id'),
        t('key.role'),
        t('key.label'),
        t('key.scope'),
        t('key.created'),
        t('key.status'),
        t('key.requests'),
        t('key.lastUsed'),
      ],
      data.keys.map((k) => [
        h('code', {}, k.id),
        t(`role.${k.role}`),
        k.label,
        k.scope,
        fmtTime(k.createdAt),
        k.revokedAt ? t('key.revoked') : t('key.active'),
        fmtNum(k.requests),
        fmtTime(k.lastUsedAt),
      ]),
      'access-list',
    ),
    h('p', { class: 'muted small' }, t('entry.against', { size: checkpoint.size })),
  );
}

async function operatorIncidentsView(main) {
  main.append(h('h1', {}, t('nav.operator-incidents')));
  const { incidents } = await api(`${ADMIN}/incidents`);
  main.append(h('p', { class: 'muted' }, t('incidents.operatorNote')), incidentsTable(incidents, true));
}

// ——— The page ———

const VIEWS = {
  overview: overviewView,
  log: logView,
  checkpoints: checkpointsView,
  reports: (main) => reportsView(main, session.get('role') === 'operator' ? ADMIN : REGULATOR),
  incidents: incidentsView,
  operator: operatorView,
  'operator-incidents': operatorIncidentsView,
};

async function render() {
  document.documentElement.lang = lang;
  document.title = `Shekara — ${t('app.subtitle')}`;
  const role = session.get('key') ? session.get('role') : null;
  const asked = location.hash.replace(/^#\//, '');
  const view = role && VIEWS[asked] ? asked : role ? NAV[role][0] : null;
  const main = h('main', { 'data-view': view ?? 'signin' });
  app.replaceChildren(header(role, view), main);
  if (!role) return main.append(signInView());
  try {
    await VIEWS[view](main);
  } catch (e) {
    main.append(errorBox(e));
  }
}

window.addEventListener('hashchange', () => void render());
void render();
