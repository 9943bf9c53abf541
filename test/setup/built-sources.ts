/**
 * Test files import the gateway from its sources (`../../src/…`). Under vitest each forked worker
 * then fetches every one of those modules from the main process, transformed by vite, and
 * evaluates it: a file that starts the app loads a few hundred, seconds of "collect" before its
 * first case, paid again in every fork (~200 s of a run).
 *
 * When the build in dist/ is current (src/thread-entry.ts's rule: every file under src/ has its
 * built twin, written after it; `npm test` builds first), a test file's import of a src/ module
 * resolves to that twin instead, and Node loads it itself (`server.deps.external`). The same code:
 * tsc built it from those sources. One copy per process: whichever way a test reaches a module
 * (src/ import, dist/ import, a helper's import), it gets the same instance.
 *
 * Not in watch mode (an edit made during the session would not be built), not with a build older
 * than any source: then the sources are loaded through vite, as before.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';
import { buildIsCurrent, CHECKOUT } from '../../src/thread-entry.js';

const SRC = path.join(CHECKOUT.src, path.sep);
const DIST = path.join(CHECKOUT.dist, path.sep);

export function builtSources(): Plugin {
  let on = false;
  return {
    name: 'shekara:built-sources',
    enforce: 'pre',
    configureVitest({ vitest }) {
      on = !vitest.config.watch && buildIsCurrent();
    },
    resolveId(source, importer) {
      if (!on || importer === undefined || !source.startsWith('.') || importer.startsWith(SRC)) return null;
      const wanted = path.resolve(path.dirname(importer), source);
      if (!wanted.startsWith(SRC)) return null;
      const built = path.join(DIST, path.relative(SRC, wanted)).replace(/\.ts$/, '.js');
      return existsSync(built) ? built : null;
    },
  };
}

/** The build's modules: loaded by Node, never transformed by vite. */
export const BUILT = new RegExp(`^${DIST.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
