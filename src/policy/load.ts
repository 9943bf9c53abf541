/**
 * Reads and validates a policy file, then compiles it. Everything that can be wrong with a
 * policy is found here, with file, line, path and reason — never on the hot path.
 */
import { createHash } from 'node:crypto';
import type { PolicyFile } from './schema.js';
// PolicyFileSchema, compiled ahead of time by Ajv (scripts/gen-validators.ts).
import { validate as validatePolicy } from './validate-policy.generated.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import { describeSchemaErrors, parseYamlSource, readSourceFile, YamlSyntaxError } from '../yaml-source.js';
import { ShekaraError } from '../errors.js';
import type { Catalog } from '../catalog/index.js';

export function loadPolicyFile(file: string, catalog?: Catalog): CompiledPolicy {
  return parsePolicy(readSourceFile(file, 'policy'), file, catalog);
}

/** Validates and compiles policy text. The hash is over the exact bytes, so anyone can recompute it. */
export function parsePolicy(text: string, source: string, catalog?: Catalog): CompiledPolicy {
  let src;
  try {
    src = parseYamlSource(text, source);
  } catch (cause) {
    if (cause instanceof YamlSyntaxError) throw new ShekaraError('SHK_POLICY_INVALID', cause.message, { cause });
    throw cause;
  }
  if (!validatePolicy(src.data)) {
    const problems = describeSchemaErrors(validatePolicy.errors ?? [], src);
    throw new ShekaraError('SHK_POLICY_INVALID', `invalid policy ${source}:\n  ${problems.join('\n  ')}`, {
      details: { problems, file: source },
    });
  }
  const hash = `sha256:${createHash('sha256').update(text).digest('hex')}`;
  return compilePolicy(src.data as PolicyFile, hash, src, text, catalog);
}
