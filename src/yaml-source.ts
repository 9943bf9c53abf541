/**
 * YAML parsing that remembers where each key came from, so config and policy errors can say
 * `file:line key.path: reason`. Shared by config/load.ts and policy/load.ts.
 */
import { readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from 'yaml';
import { ShekaraError } from './errors.js';

/**
 * The text of a config or policy file, or the error its loader reports: the kind of file, its
 * path and why it cannot be read (`SHK_CONFIG_FILE` for a config, `SHK_POLICY_INVALID` for a policy).
 */
export function readSourceFile(file: string, kind: 'config' | 'policy'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    const code = kind === 'config' ? 'SHK_CONFIG_FILE' : 'SHK_POLICY_INVALID';
    throw new ShekaraError(code, `cannot read ${kind} file ${file}: ${(cause as Error).message}`, { cause });
  }
}

export interface YamlSource {
  readonly source: string;
  readonly data: unknown;
  /** Line of the deepest node on `keyPath` that exists in the file, if any. */
  lineOf(keyPath: readonly (string | number)[]): number | undefined;
}

export class YamlSyntaxError extends Error {}

export function parseYamlSource(text: string, source: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0];
    throw new YamlSyntaxError(
      `${source}${at ? `:${at.line}:${at.col}` : ''}: YAML syntax: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  return {
    source,
    data: doc.toJS({ maxAliasCount: 100 }),
    lineOf(keyPath) {
      let node = doc.contents as Node | null | undefined;
      let found: number | undefined;
      for (const seg of keyPath) {
        if (isMap(node)) {
          const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
          if (!pair) break;
          const range = (pair.key as Node | null)?.range;
          if (range) found = lines.linePos(range[0]).line;
          node = pair.value as Node | null;
        } else if (isSeq(node)) {
          const item = node.items[Number(seg)] as Node | undefined;
          if (!item?.range) break;
          found = lines.linePos(item.range[0]).line;
          node = item;
        } else {
          break;
        }
      }
      return found;
    },
  };
}

/** Formats a location prefix: `file:line key.path`. */
export function at(src: YamlSource, keyPath: readonly (string | number)[]): string {
  const line = src.lineOf(keyPath);
  return `${src.source}${line ? `:${line}` : ''} ${keyPath.length ? keyPath.join('.') : '(top level)'}`;
}

/** Turns Ajv errors into `file:line key.path: reason` lines, without repeats. */
export function describeSchemaErrors(errors: readonly ErrorObject[], src: YamlSource): string[] {
  const out = errors.map((e) => {
    const keyPath = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let reason = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      keyPath.push(String((e.params as { additionalProperty: string }).additionalProperty));
      reason = 'unknown key';
    } else if (e.keyword === 'enum') {
      reason = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
    } else if (e.keyword === 'discriminator') {
      const { tag, tagValue } = e.params as { tag: string; tagValue: unknown };
      keyPath.push(tag);
      reason = tagValue === undefined ? 'is required' : `${JSON.stringify(tagValue)} is not one of the accepted kinds`;
    } else if (e.keyword === 'const') {
      reason = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    }
    return `${at(src, keyPath)}: ${reason}`;
  });
  return [...new Set(out)];
}
