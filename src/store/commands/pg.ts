/**
 * Downlink commands (src/downlink), as on SQLite (./sqlite.ts; the contract: ./types.ts): what an OEM asked
 * for, the policy's verdict, when it went to the car and what the car answered. Every state
 * change commits with its 'command' leaf in ONE transaction (../audit/pg.ts `appendEventIn`), so the
 * egress log cannot miss a command nor show one that did not happen.
 *
 * Several instances: each step is one conditional UPDATE (`… AND status = 'queued'`) whose row
 * lock makes the second of two racing steps find the row changed and write nothing, no leaf
 * either, as SQLite's single writer does.
 *
 * `params` and `acks` are JSON, not JSONB: JSON keeps the text as written, so a command's
 * parameters reach the car in the order the OEM sent them (the order their leaf's paramsSha256
 * was taken over, as on SQLite), and an acknowledgement's detail may hold "\u0000", which JSONB
 * refuses and SQLite keeps.
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db, Tx } from '../pg/db.js';
import type { PgTreeWriter } from '../audit/pg.js';
import type { AuditEventBody } from '../../audit/events.js';
import type { CommandStore } from './types.js';
import { COMMAND_COLUMNS, toCommand, type CommandDbRow } from './rows.js';

export const COMMAND_MIGRATIONS: PgMigration[] = [
  {
    id: '0022-downlink-commands',
    sql: `
  CREATE TABLE downlink_commands (
    id         TEXT PRIMARY KEY,
    oem        TEXT NOT NULL,
    vin        TEXT NOT NULL,
    pseudonym  TEXT NOT NULL,
    type       TEXT NOT NULL,
    params     JSON NOT NULL,
    status     TEXT NOT NULL,
    reason     TEXT,
    api_key    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    sent_at    BIGINT,
    acks       JSON NOT NULL DEFAULT '[]'
  );
  CREATE INDEX downlink_commands_vin ON downlink_commands (vin, type, created_at);
  CREATE INDEX downlink_commands_queued ON downlink_commands (expires_at) WHERE status = 'queued';`,
  },
];

export function pgCommands(db: Db, tree: Pick<PgTreeWriter, 'appendEventIn'>): CommandStore {
  const rows = async (text: string, values: readonly unknown[]) =>
    (await db.query<CommandDbRow>(text, values)).map(toCommand);
  /** Runs the conditional `update`; appends the leaf (same transaction) only when it changed a row. */
  const withLeaf = (update: (t: Tx) => Promise<unknown[]>, at: number, leaf: AuditEventBody) =>
    db.tx(async (t) => {
      if ((await update(t)).length === 0) return false;
      await tree.appendEventIn(t, 'command', at, leaf);
      return true;
    });
  const getCommand = async (id: string) =>
    (await rows(`SELECT ${COMMAND_COLUMNS} FROM downlink_commands WHERE id = $1`, [id]))[0];

  /** queued → expired or blocked (never sent), or sent → blocked, with its leaf; false when it was no longer `from`. */
  const close = (
    from: 'queued' | 'sent',
    status: 'expired' | 'blocked',
    id: string,
    at: number,
    reason: string,
    leaf: AuditEventBody,
  ) =>
    withLeaf(
      (t) =>
        t.query(`UPDATE downlink_commands SET status = $1, reason = $2 WHERE id = $3 AND status = $4 RETURNING id`, [
          status,
          reason,
          id,
          from,
        ]),
      at,
      leaf,
    );

  return {
    async createCommand(c, leaf) {
      await db.tx(async (t) => {
        await t.query(
          `INSERT INTO downlink_commands (id, oem, vin, pseudonym, type, params, status, reason, api_key, created_at, expires_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            c.id,
            c.oem,
            c.vin,
            c.pseudonym,
            c.type,
            JSON.stringify(c.params),
            c.status,
            c.reason,
            c.apiKey,
            c.createdAt,
            c.expiresAt,
          ],
        );
        await tree.appendEventIn(t, 'command', c.createdAt, leaf);
      });
      return (await getCommand(c.id))!;
    },
    getCommand,
    queuedCommands: (vin) =>
      rows(
        `SELECT ${COMMAND_COLUMNS} FROM downlink_commands WHERE vin = $1 AND status = 'queued' ORDER BY created_at, id COLLATE "C"`,
        [vin],
      ),
    queuedCommandVins: async (now, limit) =>
      (
        await db.query<{ vin: string }>(
          `SELECT DISTINCT vin FROM downlink_commands WHERE status = 'queued' AND expires_at >= $1 LIMIT $2`,
          [now, limit],
        )
      ).map((r) => r.vin),
    expiredQueuedCommands: (now, limit) =>
      rows(
        `SELECT ${COMMAND_COLUMNS} FROM downlink_commands WHERE status = 'queued' AND expires_at < $1
      ORDER BY expires_at, id COLLATE "C" LIMIT $2`,
        [now, limit],
      ),
    async commandTimes(vin, type, since) {
      return (
        await db.query<{ created_at: number }>(
          `SELECT created_at FROM downlink_commands
        WHERE vin = $1 AND type = $2 AND created_at >= $3 AND (status <> 'blocked' OR sent_at IS NOT NULL)
        ORDER BY created_at`,
          [vin, type, since],
        )
      ).map((r) => r.created_at);
    },
    markCommandSent: (id, at, leaf) =>
      withLeaf(
        (t) =>
          t.query(
            `UPDATE downlink_commands SET status = 'sent', sent_at = $1
      WHERE id = $2 AND status = 'queued' RETURNING id`,
            [at, id],
          ),
        at,
        leaf,
      ),
    requeueCommand: (id, at, leaf) =>
      withLeaf(
        (t) =>
          t.query(
            `UPDATE downlink_commands SET status = 'queued', sent_at = NULL WHERE id = $1 AND status = 'sent' RETURNING id`,
            [id],
          ),
        at,
        leaf,
      ),
    expireCommand: (id, at, reason, leaf) => close('queued', 'expired', id, at, reason, leaf),
    blockQueuedCommand: (id, at, reason, leaf) => close('queued', 'blocked', id, at, reason, leaf),
    blockSentCommand: (id, at, reason, leaf) => close('sent', 'blocked', id, at, reason, leaf),
    // The ack joins the end of the array, element by element: json has no concatenation, and a
    // round trip through jsonb would refuse a detail holding "\u0000".
    recordCommandAck: ({ id, vin, ack }, leaf) =>
      withLeaf(
        (t) =>
          t.query(
            `UPDATE downlink_commands d SET status = $3,
        acks = (SELECT json_agg(e ORDER BY n) FROM (SELECT e, n FROM json_array_elements(d.acks) WITH ORDINALITY AS a(e, n)
          UNION ALL SELECT $4::json, 9223372036854775807) x)
      WHERE id = $1 AND vin = $2 AND status IN ('sent', 'accepted') RETURNING id`,
            [id, vin, ack.status, JSON.stringify(ack)],
          ),
        ack.at,
        leaf,
      ),
  };
}
