/**
 * A projection's "shape": what the policy decided for it (`decision`) and the field lists that
 * follow from that (`fields_sent`, `fields_dropped`). Projections of one policy version, one
 * purpose and one record layout share it, so it is stored once, in `egress_outbox_shapes`,
 * keyed by the SHA-256 of its JSON texts, and an outbox row names it (`egress_outbox.shape`).
 *
 * Why: the shape was ~2.6 of an outbox row's ~3.1 KB (decision ~1.9 KB, fields_dropped ~0.5 KB),
 * written twice per record by the one SQLite writer thread that is the ingest pipe
 * (docs/benchmarks.md "What limits Shekara"). Content-addressed rather than numbered so that
 * every writer (the writer thread, the store's own connection, PostgreSQL instances) names a
 * shape the same way without reading anything back.
 *
 * The texts are the ones a row held inline before (JSON.stringify of each part), so what is
 * read back, and what the egress log and its Merkle leaves copy from it, is unchanged.
 */
import { createHash } from 'node:crypto';
import type { Projection } from '../../record.js';

export interface Shape {
  /** SHA-256 of the three texts (digestOf); the row's reference. */
  readonly digest: Buffer;
  readonly fieldsSent: string;
  readonly fieldsDropped: string;
  /** NULL when the projection carried no decision. */
  readonly decision: string | null;
}

/**
 * The digest of a shape's texts. Each text is length-prefixed, so no two different triples
 * hash alike by moving bytes between parts; a NULL decision is not the text `null`.
 */
export function digestOf(fieldsSent: string, fieldsDropped: string, decision: string | null): Buffer {
  const h = createHash('sha256').update('shekara outbox shape v1\n');
  for (const t of [fieldsSent, fieldsDropped, decision]) {
    if (t === null) h.update('-\n');
    else h.update(`${Buffer.byteLength(t)}\n`).update(t);
  }
  return h.digest();
}

/**
 * A projection whose decision crosses to the writer thread as its JSON text (`decisionText`,
 * `decision` left out): made on the ingest side by `withDecisionText` (sqlite/ingest-writer.ts
 * forThread), so the one writer thread, the ingest pipe, neither rebuilds the decision object
 * from a structured clone nor stringifies it again. The text is the one JSON.stringify gives.
 */
export type DecisionAsText = Projection & { readonly decisionText?: string };

export function withDecisionText(p: Projection): DecisionAsText {
  if (p.decision === undefined) return p;
  const { decision, ...rest } = p;
  return { ...rest, decisionText: JSON.stringify(decision) };
}

/** Distinct shapes kept per cache before it starts again (a bounded map, as policy/decision.ts `interned`). */
const CACHE_MAX = 2048;

/**
 * Shapes of projections by their texts: a shape seen before costs a map lookup (no hash, no
 * statement). `known` says whether this cache has already handed the shape out once, so the
 * caller writes the shape row only on first sight; `forget` empties it, for when a row the
 * cache trusted turned out not to be stored (its transaction rolled back).
 */
export function shapeCache() {
  let byText = new Map<string, Shape>();
  return {
    shapeOf(p: DecisionAsText): { shape: Shape; known: boolean } {
      const fieldsSent = JSON.stringify(p.fieldsSent);
      const fieldsDropped = JSON.stringify(p.fieldsDropped);
      const decision = p.decisionText ?? (p.decision ? JSON.stringify(p.decision) : null);
      // \0 cannot occur in JSON text unescaped: the three parts cannot run into each other.
      const text = `${fieldsSent}\0${fieldsDropped}\0${decision ?? ''}`;
      const hit = byText.get(text);
      if (hit) return { shape: hit, known: true };
      if (byText.size >= CACHE_MAX) byText = new Map();
      const shape = { digest: digestOf(fieldsSent, fieldsDropped, decision), fieldsSent, fieldsDropped, decision };
      byText.set(text, shape);
      return { shape, known: false };
    },
    forget(): void {
      byText = new Map();
    },
  };
}
