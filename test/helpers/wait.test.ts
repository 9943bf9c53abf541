/**
 * whileProgressing: a wait on a backlog bounds its stall, not its total time. It waits past
 * `stallMs` in all while the work moves, and fails once the work stops moving (a record lost
 * for good) or after `maxMs`.
 */
import { describe, expect, it } from 'vitest';
import { whileProgressing } from './wait.js';

describe('test helpers › whileProgressing', () => {
  it('waits longer than the stall bound in all while the count keeps moving', async () => {
    let n = 0;
    const work = setInterval(() => (n += 1), 10);
    try {
      const v = await whileProgressing(
        () => n >= 30 && n,
        () => n,
        { stallMs: 100, maxMs: 10_000, what: '30' },
      );
      expect(v).toBeGreaterThanOrEqual(30); // about 300 ms of waiting, three stall bounds
    } finally {
      clearInterval(work);
    }
  });

  it('fails once the count has stopped moving for the stall bound, and says where it stopped', async () => {
    let n = 0;
    const work = setInterval(() => (n < 5 ? (n += 1) : n), 10);
    try {
      await expect(
        whileProgressing(
          () => n >= 10,
          () => n,
          { stallMs: 100, maxMs: 10_000, what: 'ten' },
        ),
      ).rejects.toThrow('no progress for 100 ms (at 5) waiting for ten');
    } finally {
      clearInterval(work);
    }
  });

  it('fails after the overall bound even while the count moves', async () => {
    let n = 0;
    const work = setInterval(() => (n += 1), 10);
    try {
      await expect(
        whileProgressing(
          () => false,
          () => n,
          { stallMs: 1_000, maxMs: 200, what: 'never' },
        ),
      ).rejects.toThrow('timed out after 200 ms waiting for never');
    } finally {
      clearInterval(work);
    }
  });
});
