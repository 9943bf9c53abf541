/**
 * The verifiable export: the whole log (every leaf kind) up to a tree size, one JSON line per
 * leaf in index order (docs/audit.md "Export"):
 *
 *   {"index":0,"leafHash":"<hex SHA-256(0x00 ‖ leaf)>","entry":{…the leaf object…}}
 *
 * The leaf bytes are the canonical JSON of `entry` (leaf.ts), so the verifier rebuilds each
 * leaf hash from the entry and compares it with the stored `leafHash`: an entry altered in
 * the store (or in the file) is named by its line, index and seq. Read in pages, so a long
 * export never holds the store's connection.
 */
import type { Store } from '../store/index.js';

const PAGE = 1_000;

export async function* exportLines(store: Pick<Store, 'exportLeaves'>, size: number): AsyncGenerator<string> {
  let after = -1;
  for (;;) {
    const page = await store.exportLeaves(after, size, PAGE);
    if (page.length === 0) return;
    for (const leaf of page)
      yield `${JSON.stringify({ index: leaf.index, leafHash: leaf.leafHash, entry: leaf.entry })}\n`;
    after = page.at(-1)!.index;
    // Let the event loop breathe between pages: the gateway keeps delivering while it exports.
    await new Promise((r) => setImmediate(r));
  }
}
