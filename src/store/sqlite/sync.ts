/**
 * The synchronous shape of a store area, as better-sqlite3 answers it: the same methods as the
 * public interface (store/types.ts), each returning its value instead of a promise. The areas
 * are written against this; index.ts lifts the composed whole into the asynchronous `Store`.
 * Internal to the SQLite backend: the public contract stays spelled out in types.ts.
 */
export type Sync<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;
};
