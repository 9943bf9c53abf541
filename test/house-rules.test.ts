/**
 * Rules of the house that no linter keeps. The code says why in its own words: a comment that
 * points at a tracker entry ("see issue N" with a number) stops meaning anything when the tracker moves or the
 * reader has no access to it, so none is allowed in the code, the tests, the benchmarks or the
 * scripts, in comments or anywhere else.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOTS = ['src', 'test', 'bench', 'scripts'];
/** Text the project writes; what tests and benchmarks leave behind (.db, .log, .tmp) is not read. */
const TEXT = /\.(ts|js|mjs|cjs|sh|py|json|ya?ml|md|html|css|conf)$/;
const TRACKER_REFERENCE = /\bissue\s*#?\d+/i;

/** Each line of the project's text files under `roots` that matches `re`, as `file:line: text`. */
function linesMatching(roots: readonly string[], re: RegExp): string[] {
  const hits: string[] = [];
  for (const root of roots)
    for (const f of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      const file = path.join(root, f);
      if (!TEXT.test(file) || file.split(path.sep).includes('node_modules')) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (re.test(line)) hits.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
  return hits;
}

describe('house rules', () => {
  it('names no tracker entry by number in src, test, bench or scripts, comments included', () => {
    expect(linesMatching(ROOTS, TRACKER_REFERENCE)).toEqual([]);
  });

  it('would see such a reference in a comment, a string or a test name', () => {
    // Put together at run time, so that this file does not break its own rule.
    const n = 20;
    const seen = [`// see issue ${n}`, ` * (Issue #${n})`, `it('keeps issue#${n} fixed'`, `ISSUE  ${n}`];
    const unseen = ['issues of consent', `an issued key ${n}`, `tissue ${n}`, `issue-${n}`, 'issue N'];
    expect(seen.filter((t) => TRACKER_REFERENCE.test(t))).toEqual(seen);
    expect(unseen.filter((t) => TRACKER_REFERENCE.test(t))).toEqual([]);
  });
});
