/**
 * Decisions say, per field, what the policy did and why. Constant decisions are built once
 * at load and shared by every projection (the hot path allocates only the ones that depend on
 * the record: trip, zone and k-anonymity suppressions).
 */
import type { FieldDecision, ProjectionDecision } from '../record.js';

export type { FieldDecision, ProjectionDecision } from '../record.js';

const d = (outcome: FieldDecision['outcome'], reason: string): FieldDecision => Object.freeze({ outcome, reason });

export const NOT_LISTED = d('dropped', 'not listed');
export const NOT_LISTED_VIN = d('dropped', 'not listed (the VIN only leaves when named)');
export const NOT_LISTED_ACCOUNT = d('dropped', 'not listed (account fields leave only when named one by one)');
export const UNKNOWN_KEY = d('dropped', 'unknown payload key (never sent)');
export const TRANSFORM_DECLINED = d('dropped', 'the transform does not apply to this value');

export const decision = d;

const cache = new Map<string, FieldDecision>();
/** Interned decisions for reasons that repeat (`suppressed: trip start radius`). */
export function interned(outcome: FieldDecision['outcome'], reason: string): FieldDecision {
  const key = `${outcome}\n${reason}`;
  let v = cache.get(key);
  if (!v) {
    if (cache.size > 1000) cache.clear();
    v = d(outcome, reason);
    cache.set(key, v);
  }
  return v;
}

/**
 * A projection's decision, kept while the record is evaluated as an array aligned with the
 * record's signal paths (cheap index writes) plus extra entries, and turned into the
 * `path → decision` map only when read or serialized.
 */
export class FieldDecisions implements ProjectionDecision {
  private built: Record<string, FieldDecision> | undefined;
  private droppedList: string[] | undefined;
  private readonly extraPaths: string[] = [];
  private readonly extra: FieldDecision[] = [];

  constructor(
    /** The record's signal paths; `base[i]` decides `paths[i]` (undefined: decided in `extra`). */
    private readonly paths: readonly string[] = [],
    readonly base: (FieldDecision | undefined)[] = new Array(paths.length),
    readonly notes?: readonly string[],
  ) {}

  add(path: string, d: FieldDecision): void {
    this.extraPaths.push(path);
    this.extra.push(d);
  }

  /** Replaces (or adds) the decision of one path. */
  set(path: string, d: FieldDecision): void {
    this.built = undefined;
    this.droppedList = undefined;
    const e = this.extraPaths.lastIndexOf(path);
    if (e >= 0) {
      this.extra[e] = d;
      return;
    }
    const b = this.paths.indexOf(path);
    if (b >= 0 && this.base[b] !== undefined) {
      this.base[b] = d;
      return;
    }
    this.add(path, d);
  }

  private each(fn: (path: string, d: FieldDecision) => void): void {
    for (let i = 0; i < this.paths.length; i++) if (this.base[i] !== undefined) fn(this.paths[i]!, this.base[i]!);
    for (let i = 0; i < this.extraPaths.length; i++) fn(this.extraPaths[i]!, this.extra[i]!);
  }

  get fields(): Readonly<Record<string, FieldDecision>> {
    if (!this.built) {
      const f: Record<string, FieldDecision> = {};
      this.each((p, d) => {
        f[p] = d;
      });
      this.built = f;
    }
    return this.built;
  }

  /** Record paths that did not leave (dropped, suppressed or blocked), in record order. */
  dropped(): string[] {
    if (!this.droppedList) {
      // Called for every projection: plain loops, no callback.
      const out: string[] = [];
      for (let i = 0; i < this.paths.length; i++) {
        const d = this.base[i];
        if (d !== undefined && d.outcome !== 'passed' && d.outcome !== 'transformed') out.push(this.paths[i]!);
      }
      for (let i = 0; i < this.extraPaths.length; i++) {
        const o = this.extra[i]!.outcome;
        if (o !== 'passed' && o !== 'transformed') out.push(this.extraPaths[i]!);
      }
      this.droppedList = out;
    }
    return this.droppedList;
  }

  with(opts: { notes?: readonly string[] }): FieldDecisions {
    const copy = new FieldDecisions(this.paths, [...this.base], opts.notes ?? this.notes);
    for (let i = 0; i < this.extraPaths.length; i++) copy.add(this.extraPaths[i]!, this.extra[i]!);
    return copy;
  }

  /**
   * Appends to `out` what this decision's JSON text and dropped list follow from: each entry's
   * path and decision (as `id` numbers them), in the order `fields` is built, then the notes.
   * Two decisions that append the same numbers serialize alike (./shape.ts keys shapes by it).
   * False when an entry's decision has no number (`id` gives -1): it is then not keyed at all.
   */
  encode(out: number[], id: { text(s: string): number; decision(d: FieldDecision): number }): boolean {
    const at = out.length;
    out.push(0);
    let n = 0;
    for (let i = 0; i < this.paths.length; i++) {
      const d = this.base[i];
      if (d === undefined) continue;
      const k = id.decision(d);
      if (k < 0) return false;
      out.push(id.text(this.paths[i]!), k);
      n++;
    }
    for (let i = 0; i < this.extraPaths.length; i++) {
      const k = id.decision(this.extra[i]!);
      if (k < 0) return false;
      out.push(id.text(this.extraPaths[i]!), k);
      n++;
    }
    out[at] = n;
    // No notes and an empty list serialize differently (`"notes":[]`).
    out.push(this.notes ? this.notes.length + 1 : 0);
    if (this.notes) for (const note of this.notes) out.push(id.text(note));
    return true;
  }

  toJSON(): ProjectionDecision {
    return this.notes ? { fields: this.fields, notes: this.notes } : { fields: this.fields };
  }
}
