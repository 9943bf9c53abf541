/**
 * The incidents of the evidence pack: every incident with a step in the pack's log, as the
 * regulator's API shows it (no VIN, no person's identifier), with the times of its steps and
 * the notice as text. `verify --pack` checks each against its 'incident' leaves: every step is
 * the leaf at its index, the last step's leaf holds the incident's state and the SHA-256 of its
 * summary and measures, the notice text is the one those fields print, and no incident of the
 * log is left out of the pack.
 */
import { ErrorCodes, ShekaraError } from '../errors.js';
import type { Config } from '../config/schema.js';
import { textDigest } from '../audit/events.js';
import { createIncidents, regulatorView, type IncidentStoreDeps, type IncidentView } from '../incidents/index.js';
import { noticeTables, noticeText } from '../incidents/notice.js';

export type EvidenceIncident = IncidentView & { readonly notice: string };

const packError = (message: string) =>
  new ShekaraError(ErrorCodes.SHK_AUDIT_EXPORT, message, { details: { reason: 'evidence-pack' } });

/** The incidents whose steps are in the first `size` leaves. */
export async function packIncidents(
  cfg: Pick<Readonly<Config>, 'incidents' | 'catalog'>,
  store: IncidentStoreDeps,
  size: number,
  now: number,
): Promise<EvidenceIncident[]> {
  const out: EvidenceIncident[] = [];
  for (const i of await createIncidents(cfg, { store, now: () => now }).list()) {
    // A step after the checkpoint means the incident changed while the pack was made: its state
    // would not match its last leaf in the pack. Made again, the pack is whole.
    if (i.steps.some((s) => s.index >= size))
      throw new ShekaraError(
        ErrorCodes.SHK_CONFLICT,
        `incident ${i.id} changed after the pack's checkpoint was signed; make the pack again`,
      );
    if (i.steps.length === 0) continue;
    const view = regulatorView(i, now);
    out.push({ ...view, notice: noticeText(noticeTables(view)) });
  }
  return out.sort((a, b) => a.openedAt - b.openedAt);
}

type Entry = Record<string, unknown>;

/** Checks the pack's incidents against the incident leaves of its (already verified) log. */
export function verifyPackIncidents(log: readonly string[], incidents: readonly EvidenceIncident[]): void {
  const entries = new Map<number, Entry>();
  const inLog = new Set<string>();
  for (const line of log) {
    const { index, entry } = JSON.parse(line) as { index: number; entry: Entry };
    if (entry.kind !== 'incident') continue;
    entries.set(index, entry);
    inLog.add(String(entry.incident));
  }
  const seen = new Set<string>();
  for (const i of incidents) {
    const where = `incident ${i.id}`;
    seen.add(i.id);
    if (i.steps.length === 0) throw packError(`${where}: no step`);
    for (const s of i.steps) {
      const e = entries.get(s.index);
      if (!e || e.incident !== i.id || e.action !== s.action || e.at !== s.at)
        throw packError(`${where}: step ${s.action} is not the incident leaf at index ${s.index}`);
    }
    const last = entries.get(i.steps.at(-1)!.index)!;
    const expect: Entry = {
      status: i.status,
      discoveredAt: i.discoveredAt,
      dueAt: i.dueAt,
      scopeFrom: i.scopeFrom,
      scopeTo: i.scopeTo,
      vehicles: i.vehicles.length,
      persons: i.persons,
      summarySha256: textDigest(i.summary),
      measuresSha256: textDigest(i.measures.join('\n')),
    };
    for (const [k, v] of Object.entries(expect))
      if (last[k] !== v) throw packError(`${where}: ${k} differs from its last leaf (index ${i.steps.at(-1)!.index})`);
    for (const k of ['oems', 'countries', 'categories'] as const)
      if (JSON.stringify(last[k]) !== JSON.stringify(i[k]))
        throw packError(`${where}: ${k} differ from its last leaf (index ${i.steps.at(-1)!.index})`);
    const at = (action: string) => i.steps.filter((s) => s.action === action).at(-1)?.at ?? null;
    if (i.openedAt !== at('opened') || i.noticeExportedAt !== at('notice-exported') || i.closedAt !== at('closed'))
      throw packError(`${where}: its times are not those of its steps in the log`);
    if (i.notice !== noticeText(noticeTables(i)))
      throw packError(`${where}: the notice text is not the one its fields print; it was altered`);
  }
  for (const id of inLog) if (!seen.has(id)) throw packError(`incident ${id} is in the log but not in the pack`);
}
