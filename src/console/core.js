// What every view of the console shares: the signed-in key (in memory only), the language, the
// text of a key, DOM building without markup, the gateway's API, tables and error boxes.
import { STRINGS, LANGUAGES } from './strings.js';
import { parseVerifierKey } from './verify.js';

export const REGULATOR = '/regulator/v1';
export const ADMIN = '/admin/v1';

/**
 * The API key, its role and the pasted verifier key live in this module's memory only: never in
 * localStorage, sessionStorage or a cookie. A reload or a closed tab forgets them; a script
 * injected into another page of the origin cannot read them from storage.
 */
export const auth = { key: null, role: null, vkey: null };

/** Preferences that are not secrets (the language, the first checkpoint this tab saw): sessionStorage. */
export const prefs = {
  get: (k) => sessionStorage.getItem(`shekara.${k}`),
  set: (k, v) => (v === null ? sessionStorage.removeItem(`shekara.${k}`) : sessionStorage.setItem(`shekara.${k}`, v)),
};

let lang =
  prefs.get('lang') ?? (LANGUAGES.includes(navigator.language?.slice(0, 2)) ? navigator.language.slice(0, 2) : 'en');
export const currentLang = () => lang;
export function setLang(l) {
  lang = l;
  prefs.set('lang', l);
}

/** The text of `key` in the current language, `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const s = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

/** An element: `h('p', {class: 'x', onclick: f}, 'text', child)`. Text is always text, never markup. */
export function h(tag, attrs = {}, ...children) {
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

const SVG = 'http://www.w3.org/2000/svg';
export const svg = (tag, attrs = {}, ...children) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
};

const locale = () => (lang === 'kk' ? 'kk-KZ' : lang === 'ru' ? 'ru-RU' : 'en-GB');
export const fmtNum = (n) => new Intl.NumberFormat(locale()).format(n);
export const fmtTime = (v) =>
  v === null || v === undefined
    ? '—'
    : new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' }).format(
        new Date(v),
      ) + ' UTC';

/** "2 d 3 h", "3 h 20 min", "12 min": the time left on a clock, in the current language. */
export function fmtDuration(ms) {
  const m = Math.max(0, Math.floor(ms / 60_000));
  const [d, hr, min] = [Math.floor(m / 1440), Math.floor((m % 1440) / 60), m % 60];
  const parts = d
    ? [
        [d, 'd'],
        [hr, 'h'],
      ]
    : hr
      ? [
          [hr, 'h'],
          [min, 'min'],
        ]
      : [[min, 'min']];
  return parts.map(([n, u]) => `${n} ${t(`unit.${u}`)}`).join(' ');
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
  }
}

/** A call to the gateway with the signed-in key; JSON back (a Blob for documents), or an ApiError. */
export async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: {
      authorization: `Bearer ${auth.key}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return (res.headers.get('content-type') ?? '').includes('json') ? res.json() : res.blob();
}

/** The verifier key: the one the user pasted (from the operator, out of band), else the gateway's own. */
export async function verifierKey() {
  if (auth.vkey) return { key: await parseVerifierKey(auth.vkey), source: 'pasted' };
  const { verifierKey } = await api(`${REGULATOR}/pubkey`);
  return { key: await parseVerifierKey(verifierKey), source: 'gateway' };
}

/** Shows `hash`: a change of hash renders (hashchange); the same hash renders again. */
export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

export function signOut() {
  auth.key = null;
  auth.role = null;
  auth.vkey = null;
  go('#/');
}

export function errorBox(e) {
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
  return h('div', { class: 'error', 'data-result': 'error' }, t('error'), ' ', e.message);
}

export function table(columns, rows, id) {
  if (rows.length === 0) return h('p', { class: 'muted', 'data-table': id ? `${id}-empty` : null }, t('none'));
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

/** Saves a Blob (a report, a notice) as `file`: a link put `into` the page and clicked, kept to click again. */
export function download(blob, file, id, into) {
  const a = h(
    'a',
    { href: URL.createObjectURL(blob), download: file, 'data-download': id },
    t('report.save', { file }),
  );
  into.replaceChildren(a);
  a.click();
}

/** An incident's clock: when the notice is due and the time left (or overdue by), kept live by app.js. */
export function clock(i) {
  if (i.noticeExportedAt !== null && i.noticeExportedAt !== undefined)
    return h(
      'span',
      { class: 'ok', 'data-clock': 'notified' },
      t('incident.notifiedAt', { at: fmtTime(i.noticeExportedAt) }),
    );
  return h('span', { 'data-due': i.dueAt }, clockText(i.dueAt));
}

export function clockText(dueAt) {
  const left = dueAt - Date.now();
  return left >= 0
    ? t('incident.dueIn', { at: fmtTime(dueAt), left: fmtDuration(left) })
    : t('incident.overdueBy', { at: fmtTime(dueAt), left: fmtDuration(-left) });
}
