/**
 * Instants as Shekara shows them, in API answers, reports, notices and the CLI: ISO 8601 in UTC
 * with milliseconds (`2026-12-03T12:00:00.000Z`). One definition, so they all read alike.
 */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** An instant that may not have happened yet (revoked, resolved, sent): null until it has. */
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
