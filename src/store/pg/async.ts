/**
 * TEMPORARY until the async Store interface (branch async-store) is merged: the async form of
 * a store interface, as CONTRACTS.md defines it (every method returns a Promise of today's type).
 */
export type AsyncOf<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : T[K] };
