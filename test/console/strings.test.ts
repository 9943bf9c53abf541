/**
 * The console's three languages: the same keys in Kazakh, Russian and English, none empty, and
 * every key the page names literally is in them.
 */
import { readdirSync, readFileSync } from 'node:fs';
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
    const modules = readdirSync(dir).filter((f) => f.endsWith('.js') && !f.startsWith('strings'));
    expect(modules).toContain('app.js');
    const code = modules.map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
    // t('key') and the keys passed to the detail rows of an incident, row('key', …).
    const named = [...code.matchAll(/\b(?:t|row)\('([^']+)'/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(100);
    for (const k of named) expect(STRINGS.en, k).toHaveProperty([k]);
  });

  it('has the words for every data category, counter and policy transform', async () => {
    const { PRIVACY_CLASSES } = await import('../../src/catalog/classes.js');
    for (const c of PRIVACY_CLASSES) expect(STRINGS.en, c).toHaveProperty([`category.${c}`]);
    for (const c of ['persons', 'sensitivePersons', 'vehicles', 'records', 'bytes'])
      expect(STRINGS.en).toHaveProperty([`counter.${c}`]);
    const { TRANSFORMS } = await import('../../src/policy/transforms/index.js');
    for (const name of Object.keys(TRANSFORMS).filter((n) => n !== 'drop'))
      expect(STRINGS.en, name).toHaveProperty([`transform.${name}`]);
  });
});
