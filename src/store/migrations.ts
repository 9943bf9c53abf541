/**
 * What both migration runners (sqlite/migrate.ts, pg/migrate.ts) check before they apply
 * anything: the list names each id once, and the store holds no migration this build does not
 * know. The applying itself (one transaction per migration on SQLite, one advisory-locked
 * transaction for all on PostgreSQL) stays per dialect.
 */
import { ShekaraError } from '../errors.js';

/** The ids of `migrations`; throws if two share one (a programming error, caught by any test that opens a store). */
export function migrationIds(migrations: readonly { readonly id: string }[]): Set<string> {
  const ids = new Set<string>();
  for (const m of migrations) {
    if (ids.has(m.id)) throw new Error(`two store migrations share the id ${m.id}`);
    ids.add(m.id);
  }
  return ids;
}

/**
 * Refuses a store written by a newer Shekara: a migration it recorded that this build does not
 * know changed the schema in a way this code cannot read or write safely (SHK_STORE_NEWER).
 */
export function refuseNewerStore(applied: Iterable<string>, known: ReadonlySet<string>): void {
  const unknown = [...applied].filter((id) => !known.has(id)).sort();
  if (unknown.length === 0) return;
  throw new ShekaraError(
    'SHK_STORE_NEWER',
    `the store has migrations this Shekara does not know (${unknown.join(', ')}): it was written by a newer version`,
    { details: { migrations: unknown } },
  );
}
