/**
 * Waiting in tests on what can be observed (a row, a hit at the sink, a log line), never on a
 * fixed number of milliseconds: a fixed sleep is either too short under load or too long
 * everywhere else.
 */
import type pg from 'pg';

/** Polls until `check` returns (or resolves to) a value other than undefined/false, or fails after `ms`. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Polls until `check` returns (or resolves to) a value other than undefined/false, like
 * `eventually`, but what it bounds is a stall, not the total: it fails once `progress()` (a count
 * that moves while the work goes on: deliveries received, rows settled) has not changed for
 * `stallMs`, or after `maxMs` in all. For waits on a backlog a gateway works through after a
 * kill: how long that takes follows the machine's load, while a record that is lost for good
 * stops the progress and fails the wait as before.
 */
export async function whileProgressing<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  progress: () => number | Promise<number>,
  opts: { readonly stallMs: number; readonly maxMs: number; readonly what: string },
): Promise<T> {
  const until = Date.now() + opts.maxMs;
  let seen = await progress();
  let movedAt = Date.now();
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    const now = await progress();
    if (now !== seen) [seen, movedAt] = [now, Date.now()];
    if (Date.now() - movedAt > opts.stallMs)
      throw new Error(`no progress for ${opts.stallMs} ms (at ${seen}) waiting for ${opts.what}`);
    if (Date.now() > until) throw new Error(`timed out after ${opts.maxMs} ms waiting for ${opts.what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Waits until the outbox of a PostgreSQL store (`table`, schema-qualified) has no row left to
 * settle (pending, or published to Kafka and not yet delivered), with whileProgressing's bounds:
 * the count of rows left must keep moving, or `alsoProgress` (deliveries arriving, say) must.
 */
export async function whileOutboxSettles(
  db: pg.Client,
  table: string,
  opts: { readonly stallMs: number; readonly maxMs: number; readonly alsoProgress?: () => number },
): Promise<void> {
  let unsettled = -1;
  await whileProgressing(
    async () => {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${table} WHERE status IN ('pending', 'published')`,
      );
      unsettled = Number(rows[0]!.n);
      return unsettled === 0;
    },
    () => unsettled * 1_000_000 + (opts.alsoProgress?.() ?? 0),
    { stallMs: opts.stallMs, maxMs: opts.maxMs, what: 'every outbox row settled' },
  );
}
