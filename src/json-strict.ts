/**
 * A strict JSON parser (RFC 8259) for input from outside: car telemetry and API bodies.
 *
 * It differs from `JSON.parse` in three ways, each closing a door:
 * - A duplicate member name is refused with its path. RFC 8259 §4 leaves duplicates to the
 *   implementation; `JSON.parse` keeps the last one, so `{"role":"regulator","role":"operator"}`
 *   reads as one thing to a reviewer or proxy and as another to us.
 * - Objects have a null prototype: a member named `__proto__`, `constructor` or `toString` is an
 *   ordinary own key, and a lookup in a parsed object never reaches `Object.prototype`.
 * - Nesting deeper than `maxDepth` is refused instead of exhausting the stack.
 * Error messages name a path and a rule, never a value from the input: they end up in quarantine
 * reasons and 4xx bodies.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class JsonStrictError extends Error {
  constructor(
    /** Where: the root (`$`) for the document, `$.a.b.0` below it. */
    readonly path: string,
    /** The rule broken, without input values. */
    readonly rule: string,
  ) {
    super(`${path}: ${rule}`);
  }
}

export interface StrictJsonOptions {
  /** Deepest nesting of arrays and objects accepted (default 64). */
  readonly maxDepth?: number;
  /** How paths start (default `$`): `body` for an API body. */
  readonly root?: string;
  /** Member names refused wherever they appear (e.g. `__proto__` where bodies meet `Object.assign`). */
  readonly reservedKeys?: readonly string[];
}

/**
 * A member name fit to quote in a reason: a name that is not a plain identifier could be anything
 * (a value typed as a key, a secret), so it is not echoed.
 */
export const fieldName = (key: string): string => (/^[A-Za-z0-9_$.-]{1,64}$/.test(key) ? key : '<unnamed>');

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESC: Readonly<Record<number, string>> = Object.assign(Object.create(null) as Record<number, string>, {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
});
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Parses `text` as one JSON value; throws JsonStrictError. */
export function parseStrictJson(text: string, opts: StrictJsonOptions = {}): JsonValue {
  const maxDepth = opts.maxDepth ?? 64;
  const reserved = new Set(opts.reservedKeys);
  let i = 0;

  const fail = (path: string, rule: string): never => {
    throw new JsonStrictError(path, rule);
  };
  const skipWs = (): void => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  };
  const member = (path: string, key: string): string => `${path}.${fieldName(key)}`;

  function value(path: string, depth: number): JsonValue {
    skipWs();
    const c = text.charCodeAt(i);
    if (c === 0x7b) return object(path, depth + 1);
    if (c === 0x5b) return array(path, depth + 1);
    if (c === 0x22) return string(path);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number(path);
    for (const [word, v] of LITERALS) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(path, i >= text.length ? 'unexpected end of input' : `unexpected character at offset ${i}`);
  }

  function object(path: string, depth: number): JsonValue {
    if (depth > maxDepth) fail(path, `nested deeper than ${maxDepth}`);
    i++;
    const out = Object.create(null) as Record<string, JsonValue>;
    skipWs();
    if (text.charCodeAt(i) === 0x7d) {
      i++;
      return out;
    }
    for (;;) {
      skipWs();
      if (text.charCodeAt(i) !== 0x22) fail(path, `expected a member name at offset ${i}`);
      const key = string(path);
      const at = member(path, key);
      if (Object.hasOwn(out, key)) fail(at, 'duplicate key');
      if (reserved.has(key)) fail(at, 'reserved key');
      skipWs();
      if (text.charCodeAt(i) !== 0x3a) fail(at, `expected ':' at offset ${i}`);
      i++;
      out[key] = value(at, depth);
      skipWs();
      const c = text.charCodeAt(i);
      i++;
      if (c === 0x7d) return out;
      if (c !== 0x2c) fail(path, `expected ',' or '}' at offset ${i - 1}`);
    }
  }

  function array(path: string, depth: number): JsonValue {
    if (depth > maxDepth) fail(path, `nested deeper than ${maxDepth}`);
    i++;
    const out: JsonValue[] = [];
    skipWs();
    if (text.charCodeAt(i) === 0x5d) {
      i++;
      return out;
    }
    for (;;) {
      out.push(value(`${path}.${out.length}`, depth));
      skipWs();
      const c = text.charCodeAt(i);
      i++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) fail(path, `expected ',' or ']' at offset ${i - 1}`);
    }
  }

  function string(path: string): string {
    const start = ++i;
    // Fast path: no escapes.
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return text.slice(start, i - 1);
      }
      if (c === 0x5c || Number.isNaN(c)) break;
      if (c < 0x20) fail(path, `control character in a string at offset ${i}`);
      i++;
    }
    let out = text.slice(start, i);
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) fail(path, 'unterminated string');
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c < 0x20) fail(path, `control character in a string at offset ${i}`);
      if (c !== 0x5c) {
        out += text[i];
        i++;
        continue;
      }
      const e = text.charCodeAt(i + 1);
      if (e === 0x75) {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) fail(path, `bad \\u escape at offset ${i}`);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      const s = ESC[e];
      if (s === undefined) fail(path, `bad escape at offset ${i}`);
      out += s;
      i += 2;
    }
  }

  function number(path: string): number {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail(path, `bad number at offset ${i}`);
    i += m[0].length;
    const n = Number(m[0]);
    // 1e400 is valid JSON but not a finite number: nothing downstream can store Infinity.
    if (!Number.isFinite(n)) fail(path, 'number out of range');
    return n;
  }

  const root = opts.root ?? '$';
  const doc = value(root, 0);
  skipWs();
  if (i < text.length) fail(root, `unexpected data after the JSON value at offset ${i}`);
  return doc;
}

const LITERALS: readonly (readonly [string, JsonValue])[] = [
  ['true', true],
  ['false', false],
  ['null', null],
];
