/**
 * Cursor pagination, as every list route does it: ask the store for one row more than the page,
 * so that whether a next page exists is known without a count; the cursor names the last row of
 * this page (its seq, a checkpoint's size…) as opaque decimal text.
 */

/** A page of at most `q.limit` rows from `fetch`, starting after `q.cursor` (or at `start` without one). */
export async function pageQuery<R>(
  q: { readonly limit: number; readonly cursor?: string },
  start: number,
  fetch: (after: number, limit: number) => Promise<R[]>,
  cursorOf: (last: R) => number,
): Promise<{ page: R[]; nextCursor: string | null }> {
  const rows = await fetch(q.cursor ? Number(q.cursor) : start, q.limit + 1);
  const page = rows.slice(0, q.limit);
  return { page, nextCursor: rows.length > q.limit ? String(cursorOf(page.at(-1)!)) : null };
}
