/**
 * Objections to automated processing as the APIs and the CLI show them, and their deadline.
 * The law gives the operator three days to answer; Shekara counts calendar days (weekends and
 * public holidays included) from the moment of receipt: due = received + 72 h. That is the
 * earliest reading of "three days", so an answer on time under it is on time under any.
 */
import type { ObjectionRow } from '../../store/index.js';
import { iso, isoOrNull } from '../views/time.js';

export const OBJECTION_ANSWER_DAYS = 3;
const DAY_MS = 86_400_000;

export const objectionDueAt = (receivedAt: number): number => receivedAt + OBJECTION_ANSWER_DAYS * DAY_MS;

/** Open past its deadline. */
export const isOverdue = (o: ObjectionRow, now: number): boolean => o.status === 'open' && now > o.dueAt;

/** The owner's view: no VIN (it is in the URL), no pseudonym, no operator key id. */
export function ownerObjection(o: ObjectionRow, now: number) {
  return {
    id: o.id,
    oem: o.oem,
    purpose: o.purpose,
    reason: o.reason,
    receivedAt: iso(o.receivedAt),
    dueAt: iso(o.dueAt),
    status: o.status,
    overdue: isOverdue(o, now),
    answer: o.answer,
    resolvedAt: isoOrNull(o.resolvedAt),
  };
}

/** The operator's view: which vehicle, and who resolved it. */
export function operatorObjection(o: ObjectionRow, now: number) {
  return { ...ownerObjection(o, now), vin: o.vin, pseudonym: o.pseudonym, resolvedBy: o.resolvedBy };
}
