import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { categoryOf, ErrorCodes, statusOf, type ErrorCode } from '../src/errors.js';

const doc = readFileSync('docs/errors.md', 'utf8');
/** `| \`SHK_X\` | 404 | …`: each table row's code and its HTTP status cell. */
const rows = new Map(
  [...doc.matchAll(/^\| `(SHK_[A-Z0-9_]+)` \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()] as const),
);
const codes = Object.values(ErrorCodes) as string[];

describe('error codes', () => {
  it('each has a row in docs/errors.md', () => {
    expect(codes.filter((code) => !rows.has(code))).toEqual([]);
  });

  it('each row of docs/errors.md, and each code named anywhere in docs/ or the README, is a real code', () => {
    const texts = [doc, readFileSync('README.md', 'utf8')];
    for (const f of readdirSync('docs', { recursive: true, encoding: 'utf8' }))
      if (f.endsWith('.md')) texts.push(readFileSync(`docs/${f}`, 'utf8'));
    // `SHK_POLICY_*` names a family, not a code.
    const named = new Set(texts.flatMap((t) => [...t.matchAll(/\bSHK_[A-Z0-9_]*[A-Z0-9]\b(?!_\*)/g)].map((m) => m[0])));
    expect([...rows.keys(), ...named].filter((code) => !codes.includes(code))).toEqual([]);
  });

  it("each row states the code's HTTP status: the registered one first, or — when it is never an HTTP answer", () => {
    const stated = [...rows].map(([code, cell]) => [code, /^(\d{3})\b/.exec(cell)?.[1] ?? cell] as const);
    expect(stated).toEqual(stated.map(([code]) => [code, String(statusOf(code as ErrorCode) ?? '—')]));
  });

  it('a status is an HTTP error status (4xx or 5xx)', () => {
    const odd = codes.filter((c) => {
      const s = statusOf(c as ErrorCode);
      return s !== null && (s < 400 || s > 599);
    });
    expect(odd).toEqual([]);
  });

  it('the config and policy categories hold every SHK_CONFIG_* and SHK_POLICY_* code, and only those', () => {
    // Callers branch on the category (the CLI's exit 2, a policy upload's problems), not on the spelling.
    const byCategory = codes.filter((c) => categoryOf(c as ErrorCode) !== undefined);
    expect(byCategory.map((c) => [c, categoryOf(c as ErrorCode)])).toEqual(
      codes
        .filter((c) => /^SHK_(CONFIG|POLICY)_/.test(c))
        .map((c) => [c, c.startsWith('SHK_CONFIG') ? 'config' : 'policy']),
    );
  });
});
