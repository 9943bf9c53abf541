// The console: one page, no framework, no build step. It talks only to the gateway's own API
// (/regulator/v1 with a regulator key, /admin/v1 with an operator key), sends the key as a
// bearer header (no cookie, so no cross-site request can use it), keeps it in memory only
// (core.js: a reload forgets it) and checks every proof in the browser (verify.js). This file
// is the shell: header, sign-in, the router and the incident clocks; the views are modules.
import { LANGUAGES, STRINGS } from './strings.js';
import { parseVerifierKey } from './verify.js';
import { ADMIN, REGULATOR, auth, clockText, currentLang, errorBox, go, h, setLang, signOut, t } from './core.js';
import { overviewView } from './overview.js';
import { checkpointsView, logView } from './log.js';
import { operatorView, policyView, reportsView } from './reports.js';
import { incidentsView, operatorIncidentsView } from './incidents.js';

const NAV = {
  regulator: ['overview', 'log', 'checkpoints', 'reports', 'policy', 'incidents', 'operator'],
  operator: ['operator', 'operator-incidents', 'reports', 'policy'],
};

const prefix = () => (auth.role === 'operator' ? ADMIN : REGULATOR);
const VIEWS = {
  overview: overviewView,
  log: logView,
  checkpoints: checkpointsView,
  reports: (main) => reportsView(main, prefix()),
  policy: (main) => policyView(main, prefix()),
  incidents: incidentsView,
  operator: operatorView,
  'operator-incidents': operatorIncidentsView,
};

const app = document.getElementById('app');

function header(role, current) {
  const select = h(
    'select',
    {
      id: 'lang',
      'aria-label': t('language'),
      onchange: (ev) => {
        setLang(ev.target.value);
        void render();
      },
    },
    LANGUAGES.map((l) => h('option', { value: l, selected: l === currentLang() }, STRINGS[l]['language.name'])),
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
        auth.key = key.value.trim();
        auth.role = role;
        auth.vkey = vkey.value.trim() || null;
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

// ——— The page ———

async function render() {
  document.documentElement.lang = currentLang();
  document.title = `Shekara — ${t('app.subtitle')}`;
  const role = auth.key ? auth.role : null;
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

// The incident clocks run on the page: each `data-due` element is told the time left every 20 s.
setInterval(() => {
  for (const el of document.querySelectorAll('[data-due]')) el.textContent = clockText(Number(el.dataset.due));
}, 20_000);

window.addEventListener('hashchange', () => void render());
void render();
