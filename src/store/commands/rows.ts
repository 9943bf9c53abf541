/**
 * What both stores share about downlink commands: the table's columns, its row and the mapping
 * to a `CommandRow`. The DDL and the statements stay per dialect (sqlite.ts, pg.ts): `params`
 * and `acks` are TEXT on SQLite and JSON on PostgreSQL (pg.ts says why not JSONB).
 */
import type { CommandAck, CommandRow, CommandStatus } from './types.js';
import { jsonColumn } from '../json-column.js';

export const COMMAND_COLUMNS =
  'id, oem, vin, pseudonym, type, params, status, reason, api_key, created_at, expires_at, sent_at, acks';

/**
 * The `downlink_commands` table's row, as both drivers return it: `params` and `acks` arrive as
 * their JSON text from SQLite, already parsed from PostgreSQL's JSON columns.
 */
export interface CommandDbRow {
  id: string;
  oem: string;
  vin: string;
  pseudonym: string;
  type: string;
  params: string | Record<string, unknown>;
  status: string;
  reason: string | null;
  api_key: string;
  created_at: number;
  expires_at: number;
  sent_at: number | null;
  acks: string | CommandAck[];
}

export function toCommand(r: CommandDbRow): CommandRow {
  return {
    id: r.id,
    oem: r.oem,
    vin: r.vin,
    pseudonym: r.pseudonym,
    type: r.type,
    params: jsonColumn(r.params),
    status: r.status as CommandStatus,
    reason: r.reason,
    apiKey: r.api_key,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    sentAt: r.sent_at,
    acks: jsonColumn(r.acks),
  };
}
