/**
 * How `vitest run` lays the files out on the workers (vitest.config.ts, test/setup/long-first.ts):
 * the shared-module files run in a pool of their own beside the forked files, and files that wait
 * long for their size start first, with or without durations recorded by an earlier run.
 */
import { describe, expect, it } from 'vitest';
import type { TestSpecification } from 'vitest/node';
import config from '../../vitest.config.js';
import { LONG_FILES, LongFirstSequencer } from './long-first.js';

type Project = { test?: { name?: string; pool?: string; sequence?: { groupOrder?: number } } };

describe('the run’s schedule', () => {
  it('runs the sqlite-shared files in a pool of their own, in the same group as the forked files', () => {
    // vitest 3.2 runs one group's pools at once, and one pool's single-worker files after its others.
    const projects = (config.test?.projects ?? []) as Project[];
    const find = (name: string) => projects.find((p) => p.test?.name === name)?.test;
    const shared = find('sqlite-shared');
    const group = (t: Project['test']) => t?.sequence?.groupOrder ?? 0;
    for (const name of ['sqlite', 'postgres']) {
      const forked = find(name);
      expect(forked?.pool ?? 'forks').not.toBe(shared?.pool ?? 'forks');
      expect(group(forked)).toBe(group(shared));
    }
  });
});

describe('long-first order', () => {
  const root = '/repo';
  const spec = (file: string) =>
    ({ project: { name: 'sqlite' }, moduleId: `${root}/${file}` }) as unknown as TestSpecification;
  const files = ['test/a.test.ts', LONG_FILES[1]!, 'test/b.test.ts', LONG_FILES[0]!];
  const sizes: Record<string, number> = {
    'test/a.test.ts': 5_000,
    'test/b.test.ts': 9_000,
    [LONG_FILES[0]!]: 100,
    [LONG_FILES[1]!]: 200,
  };
  const sequencer = (durations?: Record<string, number>) =>
    new LongFirstSequencer({
      config: { root },
      cache: {
        getFileTestResults: (key: string) => {
          const d = durations?.[key.replace(/^sqlite:/, '')];
          return d === undefined ? undefined : { duration: d, failed: false };
        },
        getFileStats: (key: string) => ({ size: sizes[key.replace(/^sqlite:/, '')] }),
      },
    } as never);
  const names = (specs: TestSpecification[]) => specs.map((s) => s.moduleId.slice(root.length + 1));

  it('on a fresh clone starts the listed files first, in the list’s order, then the rest largest first', async () => {
    expect(names(await sequencer().sort(files.map(spec)))).toEqual([
      LONG_FILES[0],
      LONG_FILES[1],
      'test/b.test.ts',
      'test/a.test.ts',
    ]);
  });

  it('with durations from an earlier run still starts the listed files first, then the rest longest first', async () => {
    const durations = { 'test/a.test.ts': 9_000, 'test/b.test.ts': 1_000, [LONG_FILES[0]!]: 1, [LONG_FILES[1]!]: 2 };
    expect(names(await sequencer(durations).sort(files.map(spec)))).toEqual([
      LONG_FILES[0],
      LONG_FILES[1],
      'test/a.test.ts',
      'test/b.test.ts',
    ]);
  });
});
