/**
 * What counts as text everywhere Shekara stores strings. U+0000 and unpaired surrogates are not
 * text: JSON can spell them (`\u0000`, `\ud800`) and SQLite keeps them, but PostgreSQL's TEXT and
 * JSONB cannot hold them. One definition, so ingest refuses exactly what the PostgreSQL store
 * could not keep, and diagnostics are made storable the same way.
 */
const NOT_TEXT = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NOT_TEXT_ALL = new RegExp(NOT_TEXT.source, 'g');

/** True when `s` holds U+0000 or an unpaired surrogate. */
export const hasNonText = (s: string): boolean => NOT_TEXT.test(s);

/** `s` with each U+0000 and unpaired surrogate replaced by `with` (U+FFFD by default). */
export const replaceNonText = (s: string, withChar = '\uFFFD'): string => s.replace(NOT_TEXT_ALL, withChar);

/** The path of the first string (or object key) in `value` that is not text, e.g. `body.reason`; undefined when all is text. */
export function nonTextPath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return hasNonText(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const at = nonTextPath(v, `${path}.${i}`);
      if (at) return at;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (hasNonText(k)) return `${path}.${replaceNonText(k, '?')}`;
      const at = nonTextPath(v, `${path}.${k}`);
      if (at) return at;
    }
  }
  return undefined;
}
