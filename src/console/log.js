// The egress log: a search (VIN, OEM, country, outcome, field, time) and each entry's inclusion
// proof checked in this browser; the checkpoints, and the consistency between two of them.
import { REGULATOR, api, errorBox, fmtTime, h, prefs, t, table, verifierKey } from './core.js';
import { checkEntry, fromB64, verified, verifyCheckpointNote, verifyConsistency } from './verify.js';
import { checkNote, signatureBadge } from './overview.js';

export function logView(main) {
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

export async function checkpointsView(main) {
  main.append(h('h1', {}, t('nav.checkpoints')));
  const [cp, vk] = await Promise.all([api(`${REGULATOR}/checkpoints/latest`), verifierKey()]);
  const { signed: latest, error: err } = await checkNote(cp.note, vk.key);
  const out = h('div', { id: 'consistency' });
  const from = h('input', { id: 'from-size', type: 'number', min: 1, value: prefs.get('firstCheckpoint') ?? '1' });
  const history = h('div', { id: 'checkpoint-history' });
  /** The history, newest first, 20 at a time; each signature checked here, each row can be the earlier one. */
  async function loadHistory(cursor) {
    try {
      const r = await api(`${REGULATOR}/checkpoints?limit=20${cursor ? `&cursor=${cursor}` : ''}`);
      const rows = [];
      for (const c of r.checkpoints) {
        const { signed, error } = await checkNote(c.note, vk.key);
        rows.push([
          String(c.size),
          fmtTime(c.signedAt),
          h('code', {}, `${c.rootHash.slice(0, 16)}…`),
          h('span', { 'data-size': c.size }, signatureBadge(signed, error)),
          // The empty log (size 0) is extended by any log: nothing to check.
          c.size > 0
            ? h(
                'button',
                {
                  class: 'small',
                  'data-check': c.size,
                  onclick: () => {
                    from.value = String(c.size);
                    form.requestSubmit();
                  },
                },
                t('checkpoints.checkThis'),
              )
            : '',
        ]);
      }
      history.replaceChildren(
        table(
          [t('checkpoints.size'), t('checkpoints.signedAt'), t('checkpoints.root'), t('checkpoints.signature'), ''],
          rows,
          'checkpoint-history',
        ),
        r.nextCursor
          ? h('button', { id: 'older-checkpoints', onclick: () => void loadHistory(r.nextCursor) }, t('search.next'))
          : '',
      );
    } catch (e) {
      history.replaceChildren(errorBox(e));
    }
  }
  const form = h(
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
  );
  main.append(
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('checkpoints.latest', { size: cp.size })),
      h('p', {}, signatureBadge(latest, err)),
      h('pre', { class: 'note' }, cp.note),
    ),
    form,
    h('section', { class: 'card' }, h('h2', {}, t('checkpoints.history')), history),
  );
  void loadHistory(null);
}
