/**
 * The PostgreSQL connection layer: one `pg.Pool`, every connection pinned to the configured
 * schema and to synchronous_commit=on at start-up (so a COMMIT that returned is on the server's
 * disk, which is what a PUBACK promises the car), BIGINT parsed to number, and one helper for
 * transactions. Nothing here knows a table.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { ShekaraError } from '../../errors.js';
import { replaceNonText } from '../../text.js';
import { describePgUrl } from './url.js';

export type Row = Record<string, unknown>;

/** Something SQL runs on: the pool (each statement its own transaction) or one transaction. */
export interface Sql {
  query<R = Row>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /**
   * Several statements in ONE message (the simple protocol: one round trip), run in order, each
   * planned after the one before it ran (so a `set_config(…, true)` before a statement governs
   * its plan); the rows of the last one. On the pool they are one transaction of their own, committed
   * before this resolves; in a `tx`, part of it. No parameters: values MUST be inlined with
   * {@link inlineIntegers}, never text.
   */
  script<R = Row>(text: string): Promise<R[]>;
}

/**
 * `text` with each `$n` replaced by `values[n - 1]`, which MUST be a safe integer (anything else
 * throws): for {@link Sql.script}, which takes no parameters. An integer printed by JavaScript is
 * a literal that cannot carry SQL.
 */
export function inlineIntegers(text: string, values: readonly number[]): string {
  for (const v of values) if (!Number.isSafeInteger(v)) throw new TypeError(`not an integer: ${String(v)}`);
  return text.replace(/\$(\d+)\b/g, (m, n: string) => {
    const v = values[Number(n) - 1];
    if (v === undefined) throw new TypeError(`no value for ${m}`);
    return String(v);
  });
}

/** Transaction-level advisory locks, one per purpose, keyed by schema (see `lockKeys`). */
export type LockArea = 'migrations' | 'egress-log' | 'partitions' | 'relay' | 'oems' | 'oem-feed' | 'signing-keys';
const LOCK_AREAS: Record<LockArea, number> = {
  migrations: 1,
  'egress-log': 2,
  partitions: 3,
  relay: 4,
  oems: 5,
  'oem-feed': 6,
  'signing-keys': 7,
};

export interface Tx extends Sql {
  /** pg_advisory_xact_lock: held until this transaction commits or rolls back. */
  lock(area: LockArea): Promise<void>;
  /** pg_try_advisory_xact_lock: true when taken (held to the end of this transaction), false at once when another holds it. */
  tryLock(area: LockArea): Promise<boolean>;
  /** Runs (synchronously, before the ROLLBACK is sent) if this transaction does not commit. */
  onRollback(f: () => void): void;
}

export interface Db extends Sql {
  readonly schema: string;
  /** The statement `Tx.lock(area)` runs, its numbers inlined: the first statement of a {@link Sql.script}. */
  lockStatement(area: LockArea): string;
  /**
   * Runs `fn` in one transaction on one connection. Resolves only after COMMIT returned, i.e.
   * once the transaction is durable; if it rejects, nothing `fn` wrote is kept.
   */
  tx<T>(fn: (t: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PgConnectOptions {
  readonly url: string;
  readonly schema: string;
  readonly poolSize: number;
}

/**
 * Text as PostgreSQL can store it: TEXT and JSONB hold neither U+0000 nor lone surrogates (which
 * SQLite keeps). For diagnostic text only (a quarantine reason); data is refused earlier, by the decoder.
 */
export const pgText = (s: string): string => replaceNonText(s);

/** A SQL identifier, quoted. Schema names are validated by the config, this is belt and braces. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** host:port of the URL, for error messages. */
export function pgHostPort(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || new URLSearchParams(u.search).get('host') || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return '(unparseable URL)';
  }
}

// BIGINT (oid 20) holds millisecond timestamps and ids: all far below 2^53, so a number.
const INT8_OID = 20;
const typeParser = ((oid: number, format?: string) =>
  oid === INT8_OID && format !== 'binary'
    ? (v: string) => Number(v)
    : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser;

/**
 * Named (prepared) statements: each connection parses and plans a statement once. The name is
 * derived from the text, so two texts never share one. Statements never say `SELECT *`, so a
 * column added by a later migration cannot change a prepared statement's result type.
 */
const statementName = (text: string) => `shk_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;

function runner(client: pg.Pool | pg.PoolClient): Sql {
  return {
    async query<R>(text: string, values: readonly unknown[] = []) {
      // Parameterless text may hold several statements (migrations): simple protocol, unnamed.
      const cfg = values.length === 0 ? { text } : { name: statementName(text), text, values: values as unknown[] };
      return (await client.query(cfg)).rows as R[];
    },
    async script<R>(text: string) {
      const out = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
      return (Array.isArray(out) ? out.at(-1)! : out).rows as R[];
    },
  };
}

export async function connectPg(opts: PgConnectOptions): Promise<Db> {
  const lockKey = createHash('sha256').update(opts.schema).digest().readInt32BE(0);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize,
    application_name: 'shekara',
    connectionTimeoutMillis: 10_000,
    // Set when each connection starts: no statement of ours ever runs with another schema or a
    // weaker commit. A transaction left idle (a stuck process) cannot hold a lock forever.
    options: `-c search_path=${opts.schema} -c synchronous_commit=on -c idle_in_transaction_session_timeout=60000`,
    types: { getTypeParser: typeParser },
  });
  // A connection that breaks while idle is dropped by the pool; one that breaks while checked
  // out fails its next query. Either way the error is reported there, never as a crash.
  pool.on('error', () => undefined);
  pool.on('connect', (c) => {
    c.on('error', () => undefined);
  });

  try {
    const c = await pool.connect();
    c.release();
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw unavailable(opts.url, cause);
  }

  const sql = runner(pool);
  return {
    schema: opts.schema,
    lockStatement: (area) => inlineIntegers('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_AREAS[area], lockKey]),
    query: sql.query,
    script: sql.script,
    async tx(fn) {
      const client = await pool.connect();
      const rollbacks: (() => void)[] = [];
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const t: Tx = {
          ...runner(client),
          async lock(area) {
            await client.query({
              name: 'shk_lock',
              text: 'SELECT pg_advisory_xact_lock($1, $2)',
              values: [LOCK_AREAS[area], lockKey],
            });
          },
          async tryLock(area) {
            const r = await client.query<{ ok: boolean }>({
              name: 'shk_try_lock',
              text: 'SELECT pg_try_advisory_xact_lock($1, $2) AS ok',
              values: [LOCK_AREAS[area], lockKey],
            });
            return r.rows[0]!.ok;
          },
          onRollback(f) {
            rollbacks.push(f);
          },
        };
        const out = await fn(t);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        for (const f of rollbacks) f();
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e;
        });
        throw err;
      } finally {
        // A connection whose ROLLBACK failed is in an unknown state: destroyed, not reused.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** SHK_STORE_UNAVAILABLE naming host:port and why, never the password or a stack. */
export function unavailable(url: string, cause: unknown): ShekaraError {
  const e = cause as { code?: string; message?: string };
  const where = pgHostPort(url);
  const why =
    e.code === 'ECONNREFUSED'
      ? 'connection refused'
      : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
        ? 'host name does not resolve'
        : e.code === '28P01' || e.code === '28000'
          ? `authentication failed (${e.message ?? ''})`
          : e.code === '3D000'
            ? (e.message ?? 'database does not exist')
            : (e.message ?? String(cause));
  return new ShekaraError('SHK_STORE_UNAVAILABLE', `cannot reach PostgreSQL at ${where}: ${why}`, {
    retriable: true,
    cause,
    details: { hostPort: where, url: describePgUrl(url), reason: e.code ?? 'error' },
  });
}
