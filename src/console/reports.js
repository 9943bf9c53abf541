// The reports of docs/regulator.md, downloaded with the signed-in key; the policy view (what each
// OEM receives, per purpose, in plain words, from the processing record); and the operator's
// access list (API keys and command-line users).
import { ADMIN, api, download, errorBox, fmtNum, fmtTime, h, t, table } from './core.js';

export async function reportsView(main, prefix) {
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
        download(blob, `shekara-${r.name}.${format}`, r.name, links);
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

// ——— Policies in plain words ———

/** `round {"step":10}` → "rounded (step 10)"; a transform the console does not know is shown as written. */
export function transformWords(rule) {
  const space = rule.indexOf(' ');
  const [name, json] = space < 0 ? [rule, null] : [rule.slice(0, space), rule.slice(space + 1)];
  let opts = '';
  try {
    opts = json
      ? Object.entries(JSON.parse(json))
          .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`)
          .join(', ')
      : '';
  } catch {
    opts = json;
  }
  const key = `transform.${name}`;
  const words = t(key, { opts });
  return words === key ? rule : words.replace(/ \(\)$/, '');
}

/** P30D → "30 days"; anything else as written. */
function periodWords(iso) {
  const m = /^P(\d+)([DWMY])$/.exec(iso ?? '');
  return m ? `${fmtNum(Number(m[1]))} ${t(`unit.${m[2]}`)}` : iso;
}

export async function policyView(main, prefix) {
  main.append(h('h1', {}, t('nav.policy')), h('p', { class: 'muted' }, t('policy.intro')));
  const { data, checkpoint } = await api(`${prefix}/reports/processing?format=json`);
  const byOem = new Map();
  for (const p of data.purposes) byOem.set(p.oem, [...(byOem.get(p.oem) ?? []), p]);
  const activated = (oem, hash) => data.versions.find((v) => v.oem === oem && v.policyHash === hash)?.activatedAt;
  for (const [oem, purposes] of byOem) {
    const name = purposes[0].oemName;
    main.append(
      h(
        'section',
        { class: 'card', 'data-policy': oem },
        h('h2', {}, name === oem ? oem : `${name} (${oem})`),
        purposes.map((p) =>
          h(
            'div',
            { class: 'purpose', 'data-purpose': p.purpose },
            h('h3', {}, t('policy.purpose', { id: p.purpose, description: p.description })),
            h('p', {}, t('policy.receives', { oem: name })),
            h(
              'ul',
              {},
              p.fields.map((f) =>
                h(
                  'li',
                  { 'data-field': f.selector },
                  h('code', {}, f.selector),
                  ` — ${transformWords(f.transform)} (${t(`category.${f.category}`)})`,
                ),
              ),
            ),
            h('p', {}, p.legalBasis ? t('policy.basis', { basis: p.legalBasis }) : t('policy.basisNone')),
            h(
              'p',
              { 'data-consent': p.consentRequired ? 'required' : 'not-required' },
              p.consentRequired ? t('policy.consent', { days: fmtNum(p.consentMaxDays) }) : t('policy.noConsent'),
            ),
            p.automatedDecisions ? h('p', {}, t('policy.automated')) : '',
            h(
              'p',
              {},
              t('policy.where', {
                recipient: p.recipient,
                allowed: p.allowedCountries.join(', ') || t('any'),
                observed: p.observedCountries.join(', ') || '—',
              }),
            ),
            h(
              'p',
              {},
              p.retentionAtOem
                ? t('policy.retention', { period: periodWords(p.retentionAtOem) })
                : t('policy.retentionNone'),
            ),
            h(
              'p',
              { class: 'muted small' },
              t('policy.version', { hash: p.policyHash, at: fmtTime(activated(oem, p.policyHash)) }),
            ),
          ),
        ),
      ),
    );
  }
  if (data.withoutPolicy.length)
    main.append(
      h(
        'section',
        { class: 'card', 'data-policy': 'none' },
        h('p', {}, t('policy.nothing', { oems: data.withoutPolicy.join(', ') })),
      ),
    );
  main.append(h('p', { class: 'muted small' }, t('entry.against', { size: checkpoint.size })));
}

// ——— The operator's access list ———

export async function operatorView(main) {
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
    h('h2', {}, t('operator.cliUsers')),
    h('p', { class: 'muted' }, t('operator.cliIntro')),
    table(
      [t('cli.user'), t('cli.host'), t('cli.commands'), t('cli.failed'), t('key.lastUsed')],
      (data.cli ?? []).map((u) => [u.user, u.host, fmtNum(u.commands), fmtNum(u.failed), fmtTime(u.lastUsedAt)]),
      'cli-users',
    ),
    h('p', { class: 'muted small' }, t('entry.against', { size: checkpoint.size })),
  );
}
