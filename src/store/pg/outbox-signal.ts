/**
 * New outbox rows, told across processes (LISTEN/NOTIFY). An ingest process that committed
 * outbox rows notifies channel `shekara_outbox` with its schema as the payload; a delivering
 * process (`--role egress`, or any instance) listens on a connection of its own and reads the
 * outbox at once, instead of at its next idle poll (`egress.pollIntervalMs`).
 *
 * A hint, never the guarantee: the poll stays, so a notification lost (listener reconnecting,
 * server restart, a notifying process killed between its commit and its NOTIFY) only delays a
 * row to the next poll. So:
 * - The NOTIFY MUST be sent after the commit of the rows resolved (a listener woken before then
 *   would find nothing), in a transaction of its own: PostgreSQL serializes the commits of every
 *   transaction that notified (one lock per database, held through the commit's WAL flush), so a
 *   NOTIFY inside the ingest transaction would make every instance's group commits wait on each
 *   other. Its own transaction commits with synchronous_commit off: it writes nothing to keep.
 * - At most one NOTIFY is in flight per process; commits that finish meanwhile share the next.
 * - One channel for every schema on the server (a channel name is an identifier of at most 63
 *   bytes; a schema name may be longer): a listener ignores other schemas' payloads.
 */
import pg from 'pg';
import type { Db } from './db.js';

export const OUTBOX_CHANNEL = 'shekara_outbox';
const NOTIFY = `SELECT set_config('synchronous_commit', 'off', true), pg_notify('${OUTBOX_CHANNEL}', $1)`;
/** Waits before connecting the listener again: 1 s, doubling to 30 s. */
const RETRY_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

export interface OutboxWatch {
  /** Stops listening; no call of `onRows` after it resolved. */
  close(): Promise<void>;
}

export interface OutboxSignal {
  /** Rows were committed to the outbox: tell every listener on this schema. Returns at once, never throws. */
  added(): void;
  /**
   * Calls `onRows` whenever a process says it committed outbox rows to this schema, and once
   * after each reconnection of the listener (rows may have come meanwhile). Resolves after the
   * first attempt to listen: listening, or failed (`onError`) and retrying in the background.
   */
  watch(onRows: () => void, onError?: (err: unknown, retryInMs: number) => void): Promise<OutboxWatch>;
}

export function pgOutboxSignal(db: Db, url: string): OutboxSignal {
  let sending = false;
  let again = false;
  const added = () => {
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    void db
      .query(NOTIFY, [db.schema])
      .catch(() => undefined) // a hint: the listeners' poll finds the rows anyway
      .finally(() => {
        sending = false;
        if (again) {
          again = false;
          added();
        }
      });
  };

  async function watch(onRows: () => void, onError?: (err: unknown, retryInMs: number) => void): Promise<OutboxWatch> {
    let closed = false;
    let client: pg.Client | undefined;
    let timer: NodeJS.Timeout | undefined;
    let failures = 0;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({
        connectionString: url,
        application_name: 'shekara-listen',
        connectionTimeoutMillis: 10_000,
      });
      client = c;
      let lost = false;
      const retry = (err: unknown) => {
        if (lost || closed) return;
        lost = true;
        c.removeAllListeners('notification');
        void c.end().catch(() => undefined);
        const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]!;
        failures += 1;
        onError?.(err, wait);
        timer = setTimeout(() => void connect(), wait);
        timer.unref();
      };
      c.on('error', retry);
      c.on('end', () => retry(new Error('listener connection ended')));
      c.on('notification', (m) => {
        if (m.channel === OUTBOX_CHANNEL && m.payload === db.schema && !closed) onRows();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${OUTBOX_CHANNEL}`);
        if (closed) return void (await c.end().catch(() => undefined));
        if (failures > 0) onRows(); // what was committed while no one listened
        failures = 0;
      } catch (err) {
        retry(err);
      }
    };
    await connect();
    return {
      async close() {
        closed = true;
        clearTimeout(timer);
        await client?.end().catch(() => undefined);
      },
    };
  }

  return { added, watch };
}
