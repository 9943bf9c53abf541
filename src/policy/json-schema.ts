/** The published JSON Schema of the policy format (docs/policy.schema.json), generated from schema.ts. */
import { PolicyFileSchema } from './schema.js';

export function policyJsonSchema(): string {
  // TypeBox keeps its own metadata under symbols, which JSON.stringify leaves out.
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...PolicyFileSchema }, null, 2)}\n`;
}
