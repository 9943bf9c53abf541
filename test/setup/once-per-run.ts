/**
 * A vitest globalSetup that runs once per `vitest run`, however many projects run files.
 *
 * A project with `extends: true` inherits the root's globalSetup, and vitest merges the two
 * configs by concatenating arrays: a project's `globalSetup: []` cannot take the root's away. So
 * the root's setup runs for the root and again for every project that has files (five times in
 * `npm test`), each in a fresh module instance of the setup file, one after another in the main
 * process before any test starts. The first call does the work; the others find its mark on
 * globalThis (one per process, shared by those module instances) and return a no-op teardown.
 */
const marks = globalThis as { [key: symbol]: true | undefined };

export async function oncePerRun(name: string, setup: () => (() => void) | Promise<() => void>): Promise<() => void> {
  const mark = Symbol.for(`shekara:globalSetup:${name}`);
  if (marks[mark]) return () => {};
  marks[mark] = true;
  return setup();
}
