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
 *
 * Who makes it: the policy, once per distinct shape (src/policy/shape.ts), carried with the
 * projection (`Projection.shape`); `shapeOf` makes it from the projection's own parts for one
 * that comes without (built elsewhere, or by a caller of the store directly).
 */
import { createHash } from 'node:crypto';
import type { Projection, ProjectionShape } from '../../record.js';

export type { ProjectionShape } from '../../record.js';

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

/** The shape of three texts, its digest in hex (what crosses threads and keys the caches). */
export const shapeOfTexts = (fieldsSent: string, fieldsDropped: string, decision: string | null): ProjectionShape => ({
  digest: digestOf(fieldsSent, fieldsDropped, decision).toString('hex'),
  fieldsSent,
  fieldsDropped,
  decision,
});

/** Distinct shapes kept per cache before it starts again (a bounded map, as policy/decision.ts `interned`). */
const CACHE_MAX = 2048;

/**
 * The shape of a projection: the one it carries, or else made from its parts (the texts
 * JSON.stringify gives), cached by those texts so a repeated one is not hashed again.
 */
export function shapeCache() {
  let byText = new Map<string, ProjectionShape>();
  return (p: Projection): ProjectionShape => {
    if (p.shape) return p.shape;
    const fieldsSent = JSON.stringify(p.fieldsSent);
    const fieldsDropped = JSON.stringify(p.fieldsDropped);
    const decision = p.decision ? JSON.stringify(p.decision) : null;
    // \0 cannot occur in JSON text unescaped: the three parts cannot run into each other.
    const text = `${fieldsSent}\0${fieldsDropped}\0${decision ?? ''}`;
    let shape = byText.get(text);
    if (!shape) {
      if (byText.size >= CACHE_MAX) byText = new Map();
      shape = shapeOfTexts(fieldsSent, fieldsDropped, decision);
      byText.set(text, shape);
    }
    return shape;
  };
}

/**
 * A projection as it crosses to the SQLite writer thread (sqlite/ingest-writer.ts `forThread`):
 * its shape by digest (`shape`), with the texts (`shapeTexts`) only while the sender does not
 * know the shape stored in the file. The thread, the ingest pipe, neither stringifies nor
 * hashes anything of it, and a shape already stored crosses as 64 characters, not ~2.6 KB.
 */
export type ShapedProjection = Omit<Projection, 'fieldsSent' | 'fieldsDropped' | 'decision' | 'shape'> & {
  readonly shape: string;
  readonly shapeTexts?: ProjectionShape;
};

export const isShaped = (p: Projection | ShapedProjection): p is ShapedProjection => typeof p.shape === 'string';

/**
 * The shapes a sender knows to be stored in one store file, and so sends by digest only
 * (`crossing`). A shape is known once a commit that carried its texts has committed: it is then
 * in the file, and shapes are never deleted, whichever thread, restarted or not, writes next.
 * Until then every commit carries the texts (a commit that fails takes its shape row with it).
 * Bounded: past CACHE_MAX it starts again, which costs the texts of each shape once more.
 */
export function storedShapes() {
  let stored = new Set<string>();
  const shapes = shapeCache();
  return {
    /** `p` as it crosses; `carried` collects the digests whose texts went with it. */
    crossing(p: Projection, carried: Set<string>): ShapedProjection {
      const shape = shapes(p);
      const { fieldsSent: _s, fieldsDropped: _d, decision: _x, shape: _h, ...rest } = p;
      if (stored.has(shape.digest)) return { ...rest, shape: shape.digest };
      carried.add(shape.digest);
      return { ...rest, shape: shape.digest, shapeTexts: shape };
    },
    /** The texts of `digests` went with a commit that committed. */
    committed(digests: Iterable<string>): void {
      for (const d of digests) {
        if (stored.size >= CACHE_MAX) stored = new Set();
        stored.add(d);
      }
    },
  };
}
