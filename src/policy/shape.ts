/**
 * Projections' shapes (src/store/outbox/shapes.ts: the field lists and decision as the outbox
 * stores them, named by the SHA-256 of their texts), made here, once per distinct shape, where
 * the policy decided them. A projection's shape follows from the policy version, the record's
 * layout and the few decisions that depend on a value (a zone, a trip endpoint, k-anonymity, a
 * transform that declined): so projections of one purpose mostly share a handful of shapes.
 *
 * Why here: the texts are ~2.6 KB per projection. Serializing them per projection (the decision
 * on the ingest side, the field lists again in the SQLite writer thread, the ingest pipe) and
 * keying a cache by the whole text was ~4 % of each thread. The decisions are shared constants
 * (./decision.ts) and the paths are the record's own strings, so a shape is keyed instead by a
 * short string of numbers for those (FieldDecisions.encode): no JSON, no hash per projection.
 */
import type { Projection, ProjectionShape } from '../record.js';
import { shapeOfTexts } from '../store/outbox/shapes.js';
import { FieldDecisions, type FieldDecision } from './decision.js';

/** Numbers handed out before every map starts again (they key the shapes, so those go too); below 0xffff. */
const IDS_MAX = 50_000;
/** Distinct shapes kept before the map starts again. */
const SHAPES_MAX = 2048;

/** Longest key kept (numbers): a record with thousands of fields is shaped from its texts. */
const KEY_MAX = 4096;

type Parts = Pick<Projection, 'fieldsSent' | 'fieldsDropped' | 'decision'>;

/**
 * A shape maker for one evaluator (one policy version): a projection's parts → the shape of
 * JSON.stringify of each (what the outbox stored before shapes were made here), the same object
 * for the same shape while it is cached. Keyed only when `fieldsDropped` is the decision's own
 * `dropped()` list (as evaluate.ts and release.ts make it): it then follows from the key.
 */
export function shapeMaker(): (p: Parts) => ProjectionShape {
  let texts = new Map<string, number>();
  let decisions = new Map<FieldDecision, number>();
  let shapes = new Map<string, ProjectionShape>();
  const id = {
    text(s: string): number {
      let n = texts.get(s);
      if (n === undefined) texts.set(s, (n = texts.size));
      return n;
    },
    // By identity: a frozen decision (./decision.ts makes them so) says the same for ever.
    decision(d: FieldDecision): number {
      let n = decisions.get(d);
      if (n === undefined) {
        if (!Object.isFrozen(d)) return -1;
        decisions.set(d, (n = decisions.size));
      }
      return n;
    },
  };
  const codes: number[] = [];
  const made = (p: Parts): ProjectionShape =>
    shapeOfTexts(
      JSON.stringify(p.fieldsSent),
      JSON.stringify(p.fieldsDropped),
      p.decision ? JSON.stringify(p.decision) : null,
    );

  return (p) => {
    const { fieldsSent: sent, decision } = p;
    // A decision of another kind (none, or a plain object from elsewhere) is not keyed.
    if (!(decision instanceof FieldDecisions) || p.fieldsDropped !== decision.dropped()) return made(p);
    if (texts.size >= IDS_MAX || decisions.size >= IDS_MAX) {
      texts = new Map();
      decisions = new Map();
      shapes = new Map();
    }
    codes.length = 0;
    if (!decision.encode(codes, id)) return made(p);
    codes.push(sent.length);
    for (const s of sent) codes.push(id.text(s));
    if (codes.length > KEY_MAX) return made(p);
    // One UTF-16 unit per number, every count among them: no two sequences give one key.
    for (const c of codes) if (c >= 0xffff) return made(p);
    const key = String.fromCharCode(...codes);
    let shape = shapes.get(key);
    if (!shape) {
      if (shapes.size >= SHAPES_MAX) shapes = new Map();
      shapes.set(key, (shape = made(p)));
    }
    return shape;
  };
}
