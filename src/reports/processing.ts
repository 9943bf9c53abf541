/**
 * The record of processing activities: per OEM × purpose, the legal basis, whether consent is
 * required and how long a grant lasts, the fields that may cross (with their data category and
 * transform), the recipient and its destination countries (allowed by the registry, and
 * actually observed in the log), retention at the OEM, and the policy versions with hashes and
 * activation dates. With `since`, what changed since then: activations after it and what the
 * change opened or closed (src/policy/diff.ts).
 */
import { parsePolicy, type CompiledPolicy } from '../policy/index.js';
import { diffPolicies, type DiffLine } from '../policy/diff.js';
import { classifier } from './categories.js';
import { entriesUpTo } from './scan.js';
import { period } from './ledger.js';
import { type ReportDef } from './types.js';
import { iso } from '../time.js';

export interface ProcessingPurpose {
  readonly oem: string;
  readonly oemName: string;
  readonly purpose: string;
  readonly description: string;
  readonly legalBasis: string | null;
  readonly consentRequired: boolean;
  readonly consentMaxDays: number;
  readonly automatedDecisions: boolean;
  readonly fields: { readonly selector: string; readonly transform: string; readonly category: string }[];
  readonly recipient: string;
  readonly allowedCountries: readonly string[];
  readonly observedCountries: string[];
  readonly retentionAtOem: string | null;
  readonly policyHash: string;
}

export interface ProcessingRecord {
  readonly purposes: ProcessingPurpose[];
  readonly versions: { oem: string; policyHash: string; activatedAt: string; source: string }[];
  readonly since: string | null;
  readonly changes: { oem: string; from: string | null; to: string; activatedAt: string; lines: DiffLine[] }[];
  /** OEMs with no activated policy: nothing is sent to them. */
  readonly withoutPolicy: string[];
}

const host = (endpoint: string) => {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
};

export const processingReport: ReportDef<ProcessingRecord> = {
  name: 'processing',
  title: 'Record of processing activities',
  params: { since: 'list what changed since this date (RFC 3339), optional' },
  async run(deps, params) {
    const classOf = classifier(deps.config.catalog);
    const since = params.since ? period({ from: params.since, to: undefined }, deps.now).from : null;
    const purposes: ProcessingPurpose[] = [];
    const versions: ProcessingRecord['versions'] = [];
    const changes: ProcessingRecord['changes'] = [];
    const withoutPolicy: string[] = [];
    const compiled = new Map<string, CompiledPolicy>();
    const compile = (oem: string, hash: string, content: string, source: string) => {
      const k = `${oem} ${hash}`;
      if (!compiled.has(k)) compiled.set(k, parsePolicy(content, source));
      return compiled.get(k)!;
    };
    // Destination countries actually seen per OEM × purpose, up to the checkpoint.
    const observed = new Map<string, Set<string>>();
    for await (const e of entriesUpTo(deps.store, { outcome: 'delivered' }, deps.checkpoint.size)) {
      const k = `${e.oem} ${e.purpose}`;
      if (!observed.has(k)) observed.set(k, new Set());
      observed.get(k)!.add(e.destinationCountry ?? 'unknown');
    }
    for (const oem of (await deps.store.listOems()).sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const activations = await deps.store.listPolicyActivations(oem.id); // newest first
      for (const a of activations)
        versions.push({ oem: oem.id, policyHash: a.policyHash, activatedAt: iso(a.activatedAt), source: a.source });
      const current = activations[0];
      if (!current || oem.disabledAt !== null) {
        withoutPolicy.push(oem.id);
        if (!current) continue;
      }
      const policy = compile(oem.id, current.policyHash, current.content, current.source);
      for (const p of policy.purposes) {
        purposes.push({
          oem: oem.id,
          oemName: oem.name,
          purpose: p.id,
          description: p.description,
          legalBasis: p.legalBasis ?? null,
          consentRequired: p.consentRequired,
          consentMaxDays: p.consentMaxDays,
          automatedDecisions: p.automatedDecisions,
          fields: Object.entries(p.rules)
            .filter(([, t]) => t !== 'drop')
            .map(([selector, transform]) => ({ selector, transform, category: classOf(selector) })),
          recipient: `${oem.name} (${host(oem.endpoint)})`,
          allowedCountries: oem.allowedCountries,
          observedCountries: [...(observed.get(`${oem.id} ${p.id}`) ?? [])].sort(),
          retentionAtOem: p.retention ?? null,
          policyHash: current.policyHash,
        });
      }
      if (since !== null) {
        // Oldest first: each activation after `since` against the one before it.
        const ordered = [...activations].reverse();
        for (const [i, a] of ordered.entries()) {
          if (a.activatedAt < since) continue;
          const prev = ordered[i - 1];
          const before = prev ? compile(oem.id, prev.policyHash, prev.content, prev.source) : undefined;
          const after = compile(oem.id, a.policyHash, a.content, a.source);
          changes.push({
            oem: oem.id,
            from: prev?.policyHash ?? null,
            to: a.policyHash,
            activatedAt: iso(a.activatedAt),
            lines: before
              ? diffPolicies(before, after)
              : after.purposes.map((p) => ({ effect: 'opens' as const, purpose: p.id, what: 'first policy' })),
          });
        }
      }
    }
    return { purposes, versions, since: since === null ? null : iso(since), changes, withoutPolicy };
  },
  tables: (d) => [
    {
      heading: 'Purposes',
      columns: [
        'OEM',
        'purpose',
        'legal basis',
        'consent',
        'fields (privacy class, transform)',
        'recipient',
        'countries allowed',
        'countries observed',
        'retention at OEM',
        'policy',
      ],
      rows: d.purposes.map((p) => [
        p.oem,
        `${p.purpose}: ${p.description}`,
        p.legalBasis ?? 'not stated',
        p.consentRequired ? `required, at most ${p.consentMaxDays} days` : 'not required',
        p.fields.map((f) => `${f.selector} (${f.category}, ${f.transform})`).join('; '),
        p.recipient,
        p.allowedCountries.join(', ') || 'any',
        p.observedCountries.join(', ') || 'none yet',
        p.retentionAtOem ?? 'not stated',
        p.policyHash,
      ]),
    },
    {
      heading: 'Policy versions',
      columns: ['OEM', 'hash', 'activated', 'source'],
      rows: d.versions.map((v) => [v.oem, v.policyHash, v.activatedAt, v.source]),
    },
    ...(d.since === null
      ? []
      : [
          {
            heading: `Changed since ${d.since}`,
            columns: ['OEM', 'activated', 'from', 'to', 'effect', 'purpose', 'what'],
            rows: d.changes.flatMap((c) =>
              (c.lines.length ? c.lines : [{ effect: 'changes', purpose: '*', what: 'no effect on what crosses' }]).map(
                (l) => [c.oem, c.activatedAt, c.from ?? '—', c.to, l.effect, l.purpose, l.what],
              ),
            ),
          },
        ]),
    {
      heading: 'OEMs sent nothing',
      note: 'No active policy, or disabled.',
      columns: ['OEM'],
      rows: d.withoutPolicy.map((o) => [o]),
    },
  ],
};
