/**
 * A JSON column's value as each driver returns it: better-sqlite3 gives the stored text (SQLite
 * has no JSON type), pg gives JSON and JSONB columns already parsed. The areas' rows.ts map both
 * through this. Only for columns that hold an object or an array, never a string: a string is
 * taken for the stored text and parsed.
 */
export const jsonColumn = <T>(v: string | T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
