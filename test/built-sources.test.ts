/**
 * What a test file runs when it imports the gateway from its sources (test/setup/built-sources.ts):
 * while the build is current and the run is not a watch, the built module in dist/, loaded by Node
 * itself, one instance shared with whatever else loads that module; the sources otherwise.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as fromSources from '../src/thread-entry.js';

describe('test files and the build', () => {
  it('import the built module itself when the build is current, the sources when it is not', async () => {
    const built = (await import(pathToFileURL(path.resolve('dist/thread-entry.js')).href)) as typeof fromSources;
    const current = fromSources.buildIsCurrent() && process.env['VITEST_MODE'] !== 'WATCH';
    expect(fromSources.threadEntry === built.threadEntry).toBe(current);
  });
});
