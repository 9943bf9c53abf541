/**
 * The access list (Order 672/НҚ of 22 Dec 2025: the list of persons with access, and the log of
 * their actions): every API key, its role and tenant, whether it is in force, and what the log
 * shows it did in the period — the requests that touched personal data (`access` leaves with
 * action `request`, written by src/api/access-log.ts), how many were refused, the VINs it had
 * re-identified, and when it last acted; every operating-system user who ran a CLI command that
 * touched the store (`access` leaves with action `cli`, written by src/cli/access-log.ts), on
 * which host, how many commands and which. The most recent of those leaves are listed too.
 */
import type { AuditEventRow } from '../store/index.js';
import { ledgerReport, period } from './ledger.js';
import { type ReportDef } from './types.js';
import { iso } from '../time.js';

export interface AccessKey {
  readonly id: string;
  readonly role: string;
  readonly label: string;
  readonly scope: string | null;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  /** Requests touching personal data in the period (access leaves, action `request`). */
  readonly requests: number;
  /** Of those, answered 4xx/5xx. */
  readonly refused: number;
  /** Requests per data category. */
  readonly categories: Record<string, number>;
  /** Other access leaves of this key: VINs re-identified (`vin-resolved`), owner reports (`owner-report`). */
  readonly otherAccess: number;
  readonly lastUsedAt: string | null;
}

/** An operating-system user who ran logged CLI commands on a host. */
export interface AccessCliUser {
  readonly user: string;
  readonly host: string;
  readonly commands: number;
  /** Of those, ended with an error. */
  readonly failed: number;
  /** Commands per data category. */
  readonly categories: Record<string, number>;
  readonly lastUsedAt: string;
}

export interface AccessEvent {
  readonly index: number;
  readonly at: string;
  readonly apiKey: string | null;
  readonly role: string | null;
  readonly action: string;
  readonly method: string | null;
  /** The API route template, or the CLI command ('vehicles show'). */
  readonly route: string | null;
  readonly category: string | null;
  readonly status: number | null;
  /** A CLI command's result: 'ok' or its error code; by whom (login@host). */
  readonly result: string | null;
  readonly user: string | null;
}

export interface AccessList {
  readonly from: string;
  readonly to: string;
  readonly keys: AccessKey[];
  readonly cli: AccessCliUser[];
  readonly roles: { role: string; keys: number; active: number }[];
  /** The last RECENT access leaves of the period, newest first. */
  readonly recent: AccessEvent[];
  readonly events: number;
}

const RECENT = 200;
const str = (v: unknown) => (typeof v === 'string' ? v : null);

export const accessReport: ReportDef<AccessList> = {
  name: 'access',
  title: 'Access list',
  params: ledgerReport.params,
  async run(deps, params) {
    const { from, to } = period(params, deps.now);
    const keys = await deps.store.listApiKeys();
    const tally = new Map<
      string,
      { requests: number; refused: number; other: number; last: number | null; categories: Record<string, number> }
    >();
    const cli = new Map<
      string,
      { user: string; host: string; commands: number; failed: number; categories: Record<string, number>; last: number }
    >();
    const recent: AuditEventRow[] = [];
    let events = 0;
    for (let after = -1; ;) {
      const page = await deps.store.listAuditEvents({ kind: 'access', afterIndex: after, from, to, limit: 1_000 });
      const below = page.filter((e) => e.index < deps.checkpoint.size);
      for (const e of below) {
        events += 1;
        recent.push(e);
        if (recent.length > RECENT) recent.shift();
        if (e.body.action === 'cli') {
          const [user, host] = [str(e.body.user) ?? 'unknown', str(e.body.host) ?? 'unknown'];
          const u = cli.get(`${user}@${host}`) ?? { user, host, commands: 0, failed: 0, categories: {}, last: 0 };
          u.commands += 1;
          if (e.body.result !== 'ok') u.failed += 1;
          const c = str(e.body.category) ?? 'other';
          u.categories[c] = (u.categories[c] ?? 0) + 1;
          u.last = Math.max(u.last, e.at);
          cli.set(`${user}@${host}`, u);
          continue;
        }
        const key = str(e.body.apiKey);
        if (key === null) continue;
        const t = tally.get(key) ?? { requests: 0, refused: 0, other: 0, last: null, categories: {} };
        if (e.body.action === 'request') {
          t.requests += 1;
          if (typeof e.body.status === 'number' && e.body.status >= 400) t.refused += 1;
          const c = str(e.body.category) ?? 'other';
          t.categories[c] = (t.categories[c] ?? 0) + 1;
        } else t.other += 1;
        t.last = Math.max(t.last ?? 0, e.at);
        tally.set(key, t);
      }
      if (page.length < 1_000 || below.length < page.length) break;
      after = page.at(-1)!.index;
    }
    const roles = new Map<string, { role: string; keys: number; active: number }>();
    for (const k of keys) {
      const r = roles.get(k.role) ?? { role: k.role, keys: 0, active: 0 };
      r.keys += 1;
      if (k.revokedAt === null) r.active += 1;
      roles.set(k.role, r);
    }
    return {
      from: iso(from),
      to: iso(to),
      keys: keys.map((k) => {
        const t = tally.get(k.id);
        return {
          id: k.id,
          role: k.role,
          label: k.label,
          scope: k.scope,
          createdAt: iso(k.createdAt),
          revokedAt: k.revokedAt === null ? null : iso(k.revokedAt),
          requests: t?.requests ?? 0,
          refused: t?.refused ?? 0,
          categories: t?.categories ?? {},
          otherAccess: t?.other ?? 0,
          lastUsedAt: t?.last ? iso(t.last) : null,
        };
      }),
      cli: [...cli.values()]
        .sort((a, b) => a.user.localeCompare(b.user) || a.host.localeCompare(b.host))
        .map(({ last, ...u }): AccessCliUser => ({ ...u, lastUsedAt: iso(last) })),
      roles: [...roles.values()].sort((a, b) => a.role.localeCompare(b.role)),
      recent: recent.reverse().map((e) => ({
        index: e.index,
        at: iso(e.at),
        apiKey: str(e.body.apiKey),
        role: str(e.body.role),
        action: str(e.body.action) ?? 'access',
        method: str(e.body.method),
        route: str(e.body.route) ?? str(e.body.command),
        category: str(e.body.category),
        status: typeof e.body.status === 'number' ? e.body.status : null,
        result: str(e.body.result),
        user: e.body.action === 'cli' ? `${str(e.body.user)}@${str(e.body.host)}` : null,
      })),
      events,
    };
  },
  tables: (d) => [
    {
      heading: 'Roles',
      note: `Keys per role; the access log counts ${d.events} access leaves from ${d.from} to ${d.to}.`,
      columns: ['role', 'keys', 'in force'],
      rows: d.roles.map((r) => [r.role, r.keys, r.active]),
    },
    {
      heading: 'Keys with access',
      note: 'Each key as created with `shekara apikey create`; requests are those that touched personal data, keys, policies or the registry.',
      columns: [
        'key id',
        'role',
        'label',
        'scope',
        'created',
        'revoked',
        'requests',
        'refused',
        'by category',
        're-identifications and owner reports',
        'last request',
      ],
      rows: d.keys.map((k) => [
        k.id,
        k.role,
        k.label,
        k.scope,
        k.createdAt,
        k.revokedAt,
        k.requests,
        k.refused,
        Object.entries(k.categories)
          .map(([c, n]) => `${c} ${n}`)
          .join(', ') || null,
        k.otherAccess,
        k.lastUsedAt,
      ]),
    },
    {
      heading: 'Command-line users',
      note: 'Operating-system users who ran `shekara` commands that read or changed personal data, keys, policies or the registry in the store.',
      columns: ['user', 'host', 'commands', 'failed', 'by category', 'last command'],
      rows: d.cli.map((u) => [
        u.user,
        u.host,
        u.commands,
        u.failed,
        Object.entries(u.categories)
          .map(([c, n]) => `${c} ${n}`)
          .join(', '),
        u.lastUsedAt,
      ]),
    },
    {
      heading: `The latest ${RECENT} access leaves`,
      columns: [
        'leaf',
        'at',
        'key or user',
        'role',
        'action',
        'method',
        'route or command',
        'category',
        'status or result',
      ],
      rows: d.recent.map((e) => [
        e.index,
        e.at,
        e.apiKey ?? e.user,
        e.role,
        e.action,
        e.method,
        e.route,
        e.category,
        e.status ?? e.result,
      ]),
    },
  ],
};
