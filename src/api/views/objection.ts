/**
 * Objections to automated processing as the APIs and the CLI show them, and their deadline.
 * The law gives the operator three days to answer; Shekara counts calendar days (weekends and
 * public holidays included) from the moment of receipt: due = received + 72 h. That is the
 * earliest reading of "three days", so an answer on time under it is on time under any.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { ObjectionRow } from '../../store/index.js';
import { iso, isoOrNull } from '../../time.js';

const strict = { additionalProperties: false } as const;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Time = Type.String({ format: 'date-time' });

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

/** The owner's view as a schema (TypeBox = JSON Schema); the operator's adds vin, pseudonym, resolvedBy. */
export const Objection = Type.Object(
  {
    id: Type.String(),
    oem: Type.String(),
    purpose: Type.String(),
    reason: Type.String(),
    receivedAt: Time,
    dueAt: Type.String({
      format: 'date-time',
      description: 'the operator answers by then: three calendar days after receipt',
    }),
    status: Type.Union([Type.Literal('open'), Type.Literal('upheld'), Type.Literal('rejected')]),
    overdue: Type.Boolean({ description: 'open past its deadline' }),
    answer: Nullable(Type.String()),
    resolvedAt: Nullable(Time),
  },
  strict,
);
