/**
 * Downlink commands (src/downlink): what an OEM asked for, the policy's verdict, when it went to
 * the car and what the car answered. Every state change commits with its 'command' leaf in ONE
 * transaction, so the egress log cannot miss a command nor show one that did not happen.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { AuditEventBody } from '../../audit/events.js';
import type { Sync } from '../sqlite/sync.js';
import type { CommandStore } from './types.js';
import { COMMAND_COLUMNS, toCommand, type CommandDbRow } from './rows.js';

export const COMMAND_MIGRATIONS: Migration[] = [
  {
    id: '0022-downlink-commands',
    sql: `
  CREATE TABLE downlink_commands (
    id         TEXT PRIMARY KEY,
    oem        TEXT NOT NULL,
    vin        TEXT NOT NULL,
    pseudonym  TEXT NOT NULL,
    type       TEXT NOT NULL,
    params     TEXT NOT NULL,
    status     TEXT NOT NULL,
    reason     TEXT,
    api_key    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    sent_at    INTEGER,
    acks       TEXT NOT NULL DEFAULT '[]'
  ) STRICT;
  CREATE INDEX downlink_commands_vin ON downlink_commands (vin, type, created_at);
  CREATE INDEX downlink_commands_queued ON downlink_commands (expires_at) WHERE status = 'queued';`,
  },
];

/** Appends an event leaf inside the caller's transaction (store/audit/sqlite.ts). */
export type AppendEvent = (kind: 'command', at: number, body: AuditEventBody) => number;

export function sqliteCommands(db: Database.Database, appendEvent: AppendEvent): Sync<CommandStore> {
  const insert =
    db.prepare(`INSERT INTO downlink_commands (id, oem, vin, pseudonym, type, params, status, reason, api_key, created_at, expires_at)
    VALUES (@id, @oem, @vin, @pseudonym, @type, @params, @status, @reason, @apiKey, @createdAt, @expiresAt)`);
  const get = db.prepare(`SELECT ${COMMAND_COLUMNS} FROM downlink_commands WHERE id = ?`);
  const queued = db.prepare(
    `SELECT ${COMMAND_COLUMNS} FROM downlink_commands WHERE vin = ? AND status = 'queued' ORDER BY created_at, id`,
  );
  const queuedVins = db
    .prepare(`SELECT DISTINCT vin FROM downlink_commands WHERE status = 'queued' AND expires_at >= ? LIMIT ?`)
    .pluck();
  const expired = db.prepare(
    `SELECT ${COMMAND_COLUMNS} FROM downlink_commands WHERE status = 'queued' AND expires_at < ? ORDER BY expires_at, id LIMIT ?`,
  );
  const times = db
    .prepare(
      `SELECT created_at FROM downlink_commands WHERE vin = ? AND type = ? AND created_at >= ?
      AND (status <> 'blocked' OR sent_at IS NOT NULL) ORDER BY created_at`,
    )
    .pluck();
  const sent = db.prepare(
    `UPDATE downlink_commands SET status = 'sent', sent_at = ? WHERE id = ? AND status = 'queued'`,
  );
  const requeue = db.prepare(
    `UPDATE downlink_commands SET status = 'queued', sent_at = NULL WHERE id = ? AND status = 'sent'`,
  );
  const expire = db.prepare(
    `UPDATE downlink_commands SET status = 'expired', reason = ? WHERE id = ? AND status = 'queued'`,
  );
  const block = db.prepare(
    `UPDATE downlink_commands SET status = 'blocked', reason = ? WHERE id = ? AND status = 'queued'`,
  );
  const blockSent = db.prepare(
    `UPDATE downlink_commands SET status = 'blocked', reason = ? WHERE id = ? AND status = 'sent'`,
  );
  const ack = db.prepare(`UPDATE downlink_commands SET status = @status, acks = json_insert(acks, '$[#]', json(@ack))
    WHERE id = @id AND vin = @vin AND status IN ('sent', 'accepted')`);

  const create = db.transaction((c: Parameters<CommandStore['createCommand']>[0], leaf: AuditEventBody) => {
    insert.run({ ...c, params: JSON.stringify(c.params) });
    appendEvent('command', c.createdAt, leaf);
  });
  /** Runs `update`; appends the leaf only when it changed a row. */
  const withLeaf = db.transaction((update: () => number, at: number, leaf: AuditEventBody): boolean => {
    if (update() === 0) return false;
    appendEvent('command', at, leaf);
    return true;
  });

  return {
    createCommand(c, leaf) {
      create(c, leaf);
      return toCommand(get.get(c.id) as CommandDbRow);
    },
    getCommand(id) {
      const r = get.get(id) as CommandDbRow | undefined;
      return r && toCommand(r);
    },
    queuedCommands(vin) {
      return (queued.all(vin) as CommandDbRow[]).map(toCommand);
    },
    queuedCommandVins(now, limit) {
      return queuedVins.all(now, limit) as string[];
    },
    expiredQueuedCommands(now, limit) {
      return (expired.all(now, limit) as CommandDbRow[]).map(toCommand);
    },
    commandTimes(vin, type, since) {
      return times.all(vin, type, since) as number[];
    },
    markCommandSent(id, at, leaf) {
      return withLeaf(() => sent.run(at, id).changes, at, leaf);
    },
    requeueCommand(id, at, leaf) {
      return withLeaf(() => requeue.run(id).changes, at, leaf);
    },
    expireCommand(id, at, reason, leaf) {
      return withLeaf(() => expire.run(reason, id).changes, at, leaf);
    },
    blockQueuedCommand(id, at, reason, leaf) {
      return withLeaf(() => block.run(reason, id).changes, at, leaf);
    },
    blockSentCommand(id, at, reason, leaf) {
      return withLeaf(() => blockSent.run(reason, id).changes, at, leaf);
    },
    recordCommandAck({ id, vin, ack: a }, leaf) {
      return withLeaf(() => ack.run({ id, vin, status: a.status, ack: JSON.stringify(a) }).changes, a.at, leaf);
    },
  };
}
