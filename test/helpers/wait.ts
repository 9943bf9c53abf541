/**
 * Waiting in tests on what can be observed (a row, a hit at the sink, a log line), never on a
 * fixed number of milliseconds: a fixed sleep is either too short under load or too long
 * everywhere else.
 */

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
