/**
 * vitest calls the root's globalSetup once for the root and once more for each project with
 * files, each time from a fresh module instance of the setup file: the work is done once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const NAME = 'once-per-run.test';
afterEach(() => {
  delete (globalThis as { [key: symbol]: unknown })[Symbol.for(`shekara:globalSetup:${NAME}`)];
});

describe('a globalSetup called once per project', () => {
  it('runs its work on the first call only, from any module instance, and tears down once', async () => {
    const work = vi.fn();
    const teardown = vi.fn();
    const calls: (() => void)[] = [];
    for (let project = 0; project < 3; project++) {
      vi.resetModules(); // a fresh instance, as each project's runner imports the setup file
      const { oncePerRun } = await import('./once-per-run.js');
      calls.push(
        await oncePerRun(NAME, () => {
          work();
          return teardown;
        }),
      );
    }
    for (const t of calls) t();
    expect(work).toHaveBeenCalledTimes(1);
    expect(teardown).toHaveBeenCalledTimes(1);
  });
});
