/**
 * Monthly partitions of `route_points` (RANGE on observed_at, ms since epoch, UTC months).
 * Created ahead at start and by every retention sweep; dropped whole by retention once the
 * entire month is older than the retention period. A point no partition covers (a car clock far
 * off, a late upload of a month not created) lands in `route_points_default`; creating a month
 * moves that month's points out of the default first, so the ATTACH never fails.
 *
 * Partition DDL runs under an advisory lock (several instances), with a lock timeout in the
 * sweep: DROP takes an ACCESS EXCLUSIVE lock on `route_points` for an instant, and waiting
 * behind a long transaction would hold every insert behind it.
 */
import type { Sql, Tx } from './db.js';

const NAME = /^route_points_p(\d{4})(\d{2})$/;

export const monthStart = (ms: number): number => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};
export const nextMonth = (ms: number): number => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};
const nameOf = (start: number) => {
  const d = new Date(start);
  return `route_points_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};

/** Month partitions (name and range) currently attached to route_points. */
export async function listRoutePartitions(
  t: Sql,
  schema: string,
): Promise<{ name: string; from: number; to: number }[]> {
  const rows = await t.query<{ relname: string }>(
    `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = to_regclass($1)`,
    [`"${schema}".route_points`],
  );
  return rows
    .flatMap((r) => {
      const m = NAME.exec(r.relname);
      if (!m) return [];
      const from = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1);
      return [{ name: r.relname, from, to: nextMonth(from) }];
    })
    .sort((a, b) => a.from - b.from);
}

/** Every column of route_points, named so a moved row cannot lose one (0065 added received_at). */
const COLUMNS = 'record_id, vin, observed_at, received_at, latitude, longitude, speed';

/** Creates the partitions of the month of `nowMs` and the `monthsAhead` after it; returns the names created. Caller holds the 'partitions' lock. */
export async function createRoutePartitions(
  t: Tx,
  schema: string,
  nowMs: number,
  monthsAhead: number,
): Promise<string[]> {
  const have = new Set((await listRoutePartitions(t, schema)).map((p) => p.name));
  const created: string[] = [];
  for (let from = monthStart(nowMs), i = 0; i <= monthsAhead; i++, from = nextMonth(from)) {
    const name = nameOf(from);
    if (have.has(name)) continue;
    const to = nextMonth(from);
    await t.query(`CREATE TABLE ${name} (LIKE route_points INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    await t.query(`WITH moved AS (DELETE FROM route_points_default WHERE observed_at >= ${from} AND observed_at < ${to}
        RETURNING ${COLUMNS})
      INSERT INTO ${name} (${COLUMNS}) SELECT ${COLUMNS} FROM moved`);
    await t.query(`ALTER TABLE route_points ATTACH PARTITION ${name} FOR VALUES FROM (${from}) TO (${to})`);
    created.push(name);
  }
  return created;
}

/** Drops every month partition that ends at or before `cutoff`; returns how many points went with them. Caller holds the 'partitions' lock. */
export async function dropRoutePartitions(t: Tx, schema: string, cutoff: number): Promise<number> {
  let removed = 0;
  for (const p of await listRoutePartitions(t, schema)) {
    if (p.to > cutoff) continue;
    const [row] = await t.query<{ n: number }>(`SELECT count(*) AS n FROM ${p.name}`);
    await t.query(`DROP TABLE ${p.name}`);
    removed += row!.n;
  }
  return removed;
}
