/**
 * Comparing two OEM definitions, shared by every store backend so that seeding decides "is this a
 * change?" the same way on each. Field by field, never as JSON text: PostgreSQL's JSONB hands an
 * object back with its keys in its own order, and a missing `caFile` equals an undefined one.
 */
import type { OemDefinition, OemDefinitionField } from './types.js';

const sameMtls = (a: OemDefinition['mtls'], b: OemDefinition['mtls']): boolean =>
  a === null || b === null ? a === b : a.certFile === b.certFile && a.keyFile === b.keyFile && a.caFile === b.caFile;

const SAME: { readonly [F in OemDefinitionField]: (a: OemDefinition[F], b: OemDefinition[F]) => boolean } = {
  name: (a, b) => a === b,
  endpoint: (a, b) => a === b,
  // The list is stored as written: another order is another definition.
  allowedCountries: (a, b) => a.length === b.length && a.every((c, i) => c === b[i]),
  allowPrivateNetworks: (a, b) => a === b,
  signingKeyFile: (a, b) => a === b,
  mtls: sameMtls,
};

/** The fields (not the id) in which `b` defines the OEM otherwise than `a`, in a fixed order; empty when the same. */
export function definitionDiff(a: OemDefinition, b: OemDefinition): OemDefinitionField[] {
  return (Object.keys(SAME) as OemDefinitionField[]).filter(
    (f) => !(SAME[f] as (x: unknown, y: unknown) => boolean)(a[f], b[f]),
  );
}
