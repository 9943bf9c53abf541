/**
 * The order in which `vitest run` hands files to its workers (vitest.config.ts `sequence`).
 *
 * Two workers take files from one queue, so the run ends when the last file started ends: a long
 * file started late keeps one worker busy while the other has nothing left. vitest orders by the
 * durations it recorded in its cache (node_modules/.vite) and, without them (a fresh clone, CI),
 * by file size, largest first. Size mostly follows time, except for files that spend their time
 * waiting on processes, sockets or a broker rather than in many cases: those are listed below and
 * start first, in this order, with or without a cache. The rest keep vitest's order.
 *
 * A file joins the list when a whole run shows it among the longest while its size puts it in the
 * second half of the queue (the list is an order, never a test: a wrong or stale entry only costs
 * time).
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const LONG_FILES = ['test/e2e/scale-out.test.ts', 'test/ingest/mqtt-connect-flood.test.ts'];

export class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const byVitest = await super.sort(files);
    const root = this.ctx.config.root;
    const rank = (spec: TestSpecification): number => {
      const i = LONG_FILES.indexOf(relative(root, spec.moduleId));
      return i === -1 ? LONG_FILES.length : i;
    };
    // Array.prototype.sort is stable: files of equal rank keep vitest's order.
    return [...byVitest].sort((a, b) => rank(a) - rank(b));
  }
}
