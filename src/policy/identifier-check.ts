/**
 * The identifier detector (identifiers.ts) as the evaluator calls it: on each string, or array
 * of strings, a policy lets out; a hit drops the field with a decision saying what was found.
 */
import type { CanonicalRecord, SignalValue } from '../record.js';
import type { TransformContext } from './transforms/index.js';
import { interned, type FieldDecision } from './decision.js';
import { findIdentifier, type IdentifierContext, type IdentifierKind } from './identifiers.js';

const what: Record<IdentifierKind, string> = {
  vin: 'a VIN',
  iin: 'a national id (IIN)',
  phone: 'a phone number',
  email: 'an e-mail address',
  account: "the owner's account data",
};

/** One decision per kind: the reason names what was found, never the value. */
export const IDENTIFIER_FOUND = Object.fromEntries(
  Object.entries(what).map(([k, w]) => [k, interned('dropped', `dropped: contains ${w} (never sent, in any form)`)]),
) as Record<IdentifierKind, FieldDecision>;

export const idContext = (record: CanonicalRecord, ctx: TransformContext): IdentifierContext => ({
  vin: record.vin,
  account: Object.values(record.account),
  isRegisteredVin: ctx.isRegisteredVin,
});

/** What `v` holds, looking at each string of an array and at the array joined (split across items). */
export function identifierIn(v: SignalValue, ctx: IdentifierContext): IdentifierKind | undefined {
  if (typeof v === 'string') return findIdentifier(v, ctx);
  if (!Array.isArray(v)) return undefined;
  const strings = (v as readonly unknown[]).filter((x): x is string => typeof x === 'string');
  for (const s of strings) {
    const found = findIdentifier(s, ctx);
    if (found) return found;
  }
  return strings.length > 1 ? findIdentifier(strings.join(''), ctx) : undefined;
}
