/**
 * Personal-data incidents: the operator opens one (what happened, when it was discovered, the
 * suspected time scope, the vehicles or OEMs involved); Shekara pre-fills what the notice to the
 * authorized body needs from the store and the egress log (affected vehicles and persons, data
 * categories, OEMs and destination countries, measures), runs the business-day clock
 * (calendar.ts), and writes every step — opened, notice exported, closed — as an 'incident'
 * leaf. The notice contents follow Order 481/НҚ of 9 Aug 2024: the responsible person's contact,
 * the measures taken, and the identifiers of the people affected so they can be told.
 *
 * Identifiers (VINs, the persons' identifiers) are shown to the operator, who notifies; the
 * regulator's API sees counts and pseudonyms. A leaf never holds either: counts, ids, digests.
 */
import { ErrorCodes, ShekaraError } from '../errors.js';
import type { Config } from '../config/schema.js';
import type { IncidentRow, IncidentStatus, Store } from '../store/index.js';
import { textDigest } from '../audit/events.js';
import { uuidv7 } from '../ids.js';
import { classifier } from '../reports/categories.js';
import { entriesUpTo, personResolver } from '../reports/scan.js';
import { noticeDueAt } from './calendar.js';

export type IncidentStoreDeps = Pick<
  Store,
  | 'saveIncident'
  | 'getIncident'
  | 'listIncidents'
  | 'searchEgress'
  | 'recordVin'
  | 'getRecord'
  | 'ownersOfVehicle'
  | 'pseudonymsOfVin'
  | 'listAuditEvents'
>;

export interface IncidentInput {
  readonly summary: string;
  readonly discoveredAt: number;
  readonly scopeFrom?: number | undefined;
  readonly scopeTo?: number | undefined;
  readonly vins?: readonly string[] | undefined;
  readonly oems?: readonly string[] | undefined;
  readonly measures?: readonly string[] | undefined;
}

/** Who acted: the API key (id and role) or the CLI. */
export interface IncidentActor {
  readonly source: 'operator' | 'cli';
  readonly apiKey: string | null;
}

export interface Incident {
  readonly id: string;
  readonly status: IncidentStatus;
  readonly summary: string;
  readonly openedAt: number;
  readonly discoveredAt: number;
  readonly dueAt: number;
  readonly scopeFrom: number | null;
  readonly scopeTo: number | null;
  readonly oems: string[];
  readonly countries: string[];
  readonly categories: string[];
  readonly vehicles: { vin: string | null; pseudonyms: string[] }[];
  /** Identifiers of the persons known for the affected vehicles (owner bindings, account data). */
  readonly persons: string[];
  readonly crossings: number;
  readonly measures: string[];
  readonly contact: string;
  readonly noticeExportedAt: number | null;
  readonly closedAt: number | null;
  /** Every step as logged: the leaf index, what, when (filled in on reading, from the log). */
  readonly steps: { index: number; action: string; at: number }[];
}

/** What the regulator's API shows: no VIN, no person's identifier. */
export type IncidentView = Omit<Incident, 'vehicles' | 'persons'> & {
  vehicles: { pseudonyms: string[] }[];
  persons: number;
  overdue: boolean;
};

export function regulatorView(i: Incident, now: number): IncidentView {
  return {
    ...i,
    vehicles: i.vehicles.map((v) => ({ pseudonyms: v.pseudonyms })),
    persons: i.persons.length,
    overdue: i.noticeExportedAt === null && now > i.dueAt,
  };
}

const bad = (message: string) => new ShekaraError(ErrorCodes.SHK_BAD_REQUEST, message);

export function createIncidents(
  cfg: Pick<Readonly<Config>, 'incidents' | 'catalog'>,
  deps: { store: IncidentStoreDeps; now: () => number },
) {
  const { store } = deps;
  const classOf = classifier(cfg.catalog);

  async function save(i: Incident, action: string, actor: IncidentActor, at: number): Promise<Incident> {
    // The steps are read back from the log, never stored twice.
    const { steps: _steps, ...doc } = i;
    void _steps;
    const row: IncidentRow = {
      id: i.id,
      openedAt: i.openedAt,
      updatedAt: at,
      status: i.status,
      doc: JSON.stringify(doc),
    };
    await store.saveIncident(row, {
      action,
      incident: i.id,
      status: i.status,
      discoveredAt: i.discoveredAt,
      dueAt: i.dueAt,
      scopeFrom: i.scopeFrom,
      scopeTo: i.scopeTo,
      oems: i.oems,
      countries: i.countries,
      categories: i.categories,
      vehicles: i.vehicles.length,
      persons: i.persons.length,
      summarySha256: textDigest(i.summary),
      measuresSha256: textDigest(i.measures.join('\n')),
      source: actor.source,
      apiKey: actor.apiKey,
    });
    return get(i.id);
  }

  /** The steps of every incident, from its leaves. */
  async function stepsById(): Promise<Map<string, Incident['steps']>> {
    const out = new Map<string, Incident['steps']>();
    for (let after = -1; ;) {
      const page = await store.listAuditEvents({ kind: 'incident', afterIndex: after, limit: 1_000 });
      if (page.length === 0) return out;
      for (const e of page) {
        const id = String(e.body.incident);
        out.set(id, [...(out.get(id) ?? []), { index: e.index, action: String(e.body.action), at: e.at }]);
      }
      after = page.at(-1)!.index;
    }
  }

  /** Pre-fills the scope from the log: crossings of the named vehicles and OEMs in the time scope. */
  async function prefill(input: IncidentInput) {
    const who = personResolver(store);
    const vehicles = new Map<string, { vin: string | null; pseudonyms: Set<string> }>();
    const persons = new Set<string>();
    const oems = new Set(input.oems ?? []);
    const countries = new Set<string>();
    const categories = new Set<string>();
    let crossings = 0;
    const vinFilter = input.vins?.length ? input.vins : undefined;
    const pseudonymsOf = new Map<string, string>();
    if (vinFilter)
      for (const vin of vinFilter) for (const p of await store.pseudonymsOfVin(vin)) pseudonymsOf.set(p, vin);
    const base = {
      ...(input.scopeFrom !== undefined ? { from: input.scopeFrom } : {}),
      ...(input.scopeTo !== undefined ? { to: input.scopeTo } : {}),
      outcome: 'delivered',
      ...(vinFilter ? { pseudonyms: [...pseudonymsOf.keys()] } : {}),
    };
    const filters = input.oems?.length ? input.oems.map((oem) => ({ ...base, oem })) : [base];
    for (const f of filters)
      for await (const e of entriesUpTo(store, f, Number.MAX_SAFE_INTEGER)) {
        crossings++;
        oems.add(e.oem);
        if (e.destinationCountry) countries.add(e.destinationCountry);
        for (const field of e.fieldsSent) categories.add(classOf(field));
        const vin = (await who.vinOf(e.recordId)) ?? null;
        const key = vin ?? `pseudonym:${e.pseudonym}`;
        if (!vehicles.has(key)) vehicles.set(key, { vin, pseudonyms: new Set() });
        vehicles.get(key)!.pseudonyms.add(e.pseudonym);
        for (const p of await who.personsOf(e.recordId)) persons.add(p);
      }
    // Vehicles named but with no crossing in scope are still affected (the breach may be local).
    for (const vin of vinFilter ?? []) if (!vehicles.has(vin)) vehicles.set(vin, { vin, pseudonyms: new Set() });
    return {
      oems: [...oems].sort(),
      countries: [...countries].sort(),
      categories: [...categories].sort(),
      vehicles: [...vehicles.values()].map((v) => ({ vin: v.vin, pseudonyms: [...v.pseudonyms].sort() })),
      persons: [...persons].sort(),
      crossings,
    };
  }

  async function get(id: string): Promise<Incident> {
    const row = await store.getIncident(id);
    if (!row) throw new ShekaraError(ErrorCodes.SHK_NOT_FOUND, `no incident ${id}`);
    return { ...(JSON.parse(row.doc) as Incident), steps: (await stepsById()).get(id) ?? [] };
  }

  return {
    async open(input: IncidentInput, actor: IncidentActor): Promise<Incident> {
      const now = deps.now();
      if (!input.summary.trim()) throw bad('summary: say what happened');
      if (input.discoveredAt > now) throw bad('discoveredAt: in the future');
      if (input.scopeFrom !== undefined && input.scopeTo !== undefined && input.scopeFrom >= input.scopeTo)
        throw bad('scopeFrom must be before scopeTo');
      const found = await prefill(input);
      const incident: Incident = {
        id: uuidv7(now),
        status: 'open',
        summary: input.summary,
        openedAt: now,
        discoveredAt: input.discoveredAt,
        dueAt: noticeDueAt(input.discoveredAt, cfg.incidents.noticeBusinessDays, cfg.incidents),
        scopeFrom: input.scopeFrom ?? null,
        scopeTo: input.scopeTo ?? null,
        ...found,
        measures: [...(input.measures ?? [])],
        contact: cfg.incidents.contact,
        noticeExportedAt: null,
        closedAt: null,
        steps: [],
      };
      return save(incident, 'opened', actor, now);
    },
    get,
    async list(): Promise<Incident[]> {
      const steps = await stepsById();
      return (await store.listIncidents()).map((r) => ({
        ...(JSON.parse(r.doc) as Incident),
        steps: steps.get(r.id) ?? [],
      }));
    },
    /** The notice as exported to the authorized body; the export itself is a step (leaf). */
    async exportNotice(id: string, actor: IncidentActor): Promise<Incident> {
      const i = await get(id);
      const now = deps.now();
      return save(
        { ...i, status: i.status === 'open' ? 'notified' : i.status, noticeExportedAt: now },
        'notice-exported',
        actor,
        now,
      );
    },
    async close(id: string, measures: readonly string[], actor: IncidentActor): Promise<Incident> {
      const i = await get(id);
      if (i.status === 'closed') throw new ShekaraError(ErrorCodes.SHK_CONFLICT, `incident ${id} is closed already`);
      const now = deps.now();
      return save(
        { ...i, status: 'closed', closedAt: now, measures: [...i.measures, ...measures] },
        'closed',
        actor,
        now,
      );
    },
  };
}

export type Incidents = ReturnType<typeof createIncidents>;
export { noticeDueAt } from './calendar.js';
