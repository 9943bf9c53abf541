/**
 * The car's acknowledgement of a downlink command, published to `vehicles/{VIN}/commands/ack`:
 *   {"id": "<command id>", "status": "accepted" | "rejected" | "done" | "failed", "detail": "…"}
 * Deny by default: anything else (another key, a longer detail, not JSON) is refused whole.
 */
import type { CommandAckStatus } from '../store/index.js';

export interface CommandAckMessage {
  readonly id: string;
  readonly status: CommandAckStatus;
  readonly detail?: string;
  /**
   * Why, in Shekara's words (a protocol's error flag), for the 'acknowledged' leaf; never set
   * from the car's own text, which may name anything and stays out of the append-only log.
   */
  readonly reason?: string;
}

const STATUSES: readonly string[] = ['accepted', 'rejected', 'done', 'failed'] satisfies CommandAckStatus[];
const ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const MAX_ACK_DETAIL = 256;

/** The acknowledgement, or why it is not one. */
export function parseCommandAck(payload: Buffer): CommandAckMessage | { readonly invalid: string } {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    return { invalid: 'not JSON' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { invalid: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== 'id' && k !== 'status' && k !== 'detail');
  // The key is the car's text: the reason names the rule, not the key (it reaches the log).
  if (extra.length > 0) return { invalid: 'unknown field (only id, status and detail)' };
  if (typeof o.id !== 'string' || !ID_RE.test(o.id)) return { invalid: 'id: must be the command id' };
  if (typeof o.status !== 'string' || !STATUSES.includes(o.status))
    return { invalid: `status: must be one of ${STATUSES.join(', ')}` };
  if (o.detail !== undefined && (typeof o.detail !== 'string' || o.detail.length > MAX_ACK_DETAIL))
    return { invalid: `detail: must be a string of at most ${MAX_ACK_DETAIL} characters` };
  return {
    id: o.id,
    status: o.status as CommandAckStatus,
    ...(o.detail !== undefined ? { detail: o.detail as string } : {}),
  };
}
