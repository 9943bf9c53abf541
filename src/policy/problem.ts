/**
 * The error a policy problem is thrown as: its code, and where it is (`file:line key.path:
 * reason`, src/yaml-source.ts). Apart from compile.ts so that commands.ts, which compile.ts
 * imports, can throw it without importing compile.ts back.
 */
import { ShekaraError } from '../errors.js';
import { at, type YamlSource } from '../yaml-source.js';

type PolicyCode = 'SHK_POLICY_INVALID' | 'SHK_POLICY_UNKNOWN_TRANSFORM' | 'SHK_POLICY_UNSAFE';

export function policyError(
  code: PolicyCode,
  src: YamlSource,
  keyPath: (string | number)[],
  reason: string,
): ShekaraError {
  const where = at(src, keyPath);
  return new ShekaraError(code, `invalid policy ${src.source}:\n  ${where}: ${reason}`, {
    details: {
      problems: [`${where}: ${reason}`],
      file: src.source,
      line: src.lineOf(keyPath),
      path: keyPath.join('.'),
      reason,
    },
  });
}
