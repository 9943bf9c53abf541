/**
 * The README's Layout table says where things are: each path it names exists, and its `src/store/`
 * row names every store area folder (one with a `types.ts`), no more and no fewer.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const readme = readFileSync('README.md', 'utf8');
const layout = /## Layout\n\n([\s\S]*?)\n## /.exec(readme)![1]!;
const rows = [...layout.matchAll(/^\| `([^`]+)`[^|]*\| (.*) \|$/gm)].map((m) => ({ folder: m[1]!, text: m[2]! }));

/** A path the README names, a glob's `*` standing for any part of one file name. */
function named(p: string): boolean {
  if (!p.includes('*')) return existsSync(p);
  const dir = path.dirname(p);
  const re = new RegExp(`^${path.basename(p).replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`);
  return existsSync(dir) && readdirSync(dir).some((f) => re.test(f));
}

describe('README › Layout', () => {
  it('names only paths that exist', () => {
    expect(rows.length).toBeGreaterThan(10); // the table was read
    const paths = [...layout.matchAll(/`((?:src|test|docs|deploy|bench)\/[^`\s]*)`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((p) => !named(p))).toEqual([]);
  });

  it('names every store area in the src/store/ row, and only those', () => {
    const row = rows.find((r) => r.folder === 'src/store/')!.text;
    const areas = readdirSync('src/store', { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(path.join('src/store', e.name, 'types.ts')))
      .map((e) => e.name)
      .sort();
    const inRow = [...row.matchAll(/`([a-z0-9-]+)\/`/g)].map((m) => m[1]!).filter((f) => f !== 'sqlite' && f !== 'pg');
    expect(inRow.sort()).toEqual(areas);
  });

  it('says where the src/ folders without a test/ twin are tested', () => {
    const row = rows.find((r) => r.folder === 'test/')!.text;
    const untwinned = readdirSync('src', { withFileTypes: true })
      .filter((e) => e.isDirectory() && !existsSync(path.join('test', e.name)))
      .map((e) => e.name);
    expect(untwinned.filter((d) => !row.includes(`src/${d}/`))).toEqual([]);
  });
});
