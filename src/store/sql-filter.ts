/**
 * What the areas' filter builders (rows.ts: `objectionFilter`, `egressSearchFilter`,
 * `egressLogFilter`) write SQL with, so that one builder serves both dialects: a `Param` binds a
 * value where it stands in the text, and each driver gets its own. Only the placeholders differ:
 * SQLite's `?` binds by position, so values MUST be bound in the order their placeholders appear
 * in the statement; PostgreSQL's `$n` names the position.
 */

/** Binds `value` and returns its placeholder. */
export type Param = (value: unknown) => string;

/** Values bound in order, and the Param that binds them: `?` (SQLite). */
export function sqliteParams(): { args: unknown[]; param: Param } {
  const args: unknown[] = [];
  return { args, param: (v) => (args.push(v), '?') };
}

/** Values bound in order, and the Param that binds them: `$1`, `$2`, … (PostgreSQL). */
export function pgParams(): { args: unknown[]; param: Param } {
  const args: unknown[] = [];
  return { args, param: (v) => `$${args.push(v)}` };
}

/** Conditions joined into a WHERE clause; none, no clause. */
export const whereAll = (conditions: readonly string[]): string =>
  conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
