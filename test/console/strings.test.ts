/**
 * The console's three languages: the same keys in Kazakh, Russian and English, none empty, and
 * every key the page names literally is in them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = path.resolve(import.meta.dirname, '../../src/console');
const { STRINGS } = (await import(pathToFileURL(path.join(dir, 'strings.js')).href)) as {
  STRINGS: Record<string, Record<string, string>>;
};

describe('console strings', () => {
  it('has Kazakh, Russian and English with the same keys, none empty', () => {
    expect(Object.keys(STRINGS)).toEqual(['kk', 'ru', 'en']);
    const keys = Object.keys(STRINGS.en!).sort();
    for (const lang of ['kk', 'ru']) expect(Object.keys(STRINGS[lang]!).sort(), lang).toEqual(keys);
    for (const table of Object.values(STRINGS)) for (const s of Object.values(table)) expect(s.trim()).not.toBe('');
  });

  it('has every key the page names', () => {
    const app = readFileSync(path.join(dir, 'app.js'), 'utf8');
    const named = [...app.matchAll(/\bt\('([^']+)'/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(50);
    for (const k of named) expect(STRINGS.en, k).toHaveProperty([k]);
  });
});
