/**
 * Where a worker thread's code comes from when the gateway runs from its TypeScript sources (the
 * suite, benches): the build in dist/ while it is current, the source through tsx as soon as any
 * file under src/ is newer than its built twin, or has none.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { threadEntry } from '../src/thread-entry.js';

const root = mkdtempSync(path.join(tmpdir(), 'shekara-thread-entry-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A checkout with src/store/{index,worker}.ts and console/app.js, built at `builtAt` (s), sources at `editedAt`. */
function checkout(name: string, o: { builtAt: number; editedAt: number; unbuilt?: string }) {
  const src = path.join(root, name, 'src');
  const dist = path.join(root, name, 'dist');
  const files = ['store/index.ts', 'store/worker.ts', 'console/app.js', 'config/gen.d.ts'];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
    writeFileSync(path.join(src, f), '');
    utimesSync(path.join(src, f), o.editedAt, o.editedAt);
    if (f === o.unbuilt || f.endsWith('.d.ts')) continue;
    const out = path.join(dist, f.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, '');
    utimesSync(out, o.builtAt, o.builtAt);
  }
  return { tree: { src, dist }, caller: pathToFileURL(path.join(src, 'store/index.ts')).href, dist };
}

describe('thread entry', () => {
  it('runs the compiled file beside a compiled caller', () => {
    const caller = pathToFileURL('/opt/shekara/dist/store/index.js').href;
    expect(threadEntry(caller, 'worker')).toEqual({
      url: new URL('file:///opt/shekara/dist/store/worker.js'),
      eval: false,
    });
  });

  it('from the sources, runs the build while every source file is older than its built twin', () => {
    const c = checkout('current', { builtAt: 2_000, editedAt: 1_000 });
    expect(threadEntry(c.caller, 'worker', c.tree)).toEqual({
      url: pathToFileURL(path.join(c.dist, 'store/worker.js')),
      eval: false,
    });
  });

  it.each([
    ['a source edited after the build', { builtAt: 1_000, editedAt: 2_000 }],
    ['a source file with no built twin', { builtAt: 2_000, editedAt: 1_000, unbuilt: 'console/app.js' }],
  ])('from the sources, loads the source through tsx after %s', (name, o) => {
    const c = checkout(name.replace(/\W/g, '-'), o);
    const entry = threadEntry(c.caller, 'worker', c.tree);
    expect(entry.eval).toBe(true);
    expect(entry.url).toBe(
      `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(
        pathToFileURL(path.join(c.tree.src, 'store/worker.ts')).href,
      )}); })`,
    );
  });
});
