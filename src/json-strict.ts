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

/** Parses `text` as one JSON value; throws JsonStrictError. */
export function parseStrictJson(text: string, opts: StrictJsonOptions = {}): JsonValue {
  const p = new StrictParser(text, opts.root ?? '$', opts.maxDepth ?? 64, opts.reservedKeys);
  const doc = p.value();
  p.skipWs();
  if (p.i < text.length) p.fail(`unexpected data after the JSON value at offset ${p.i}`);
  return doc;
}

/**
 * One parse. It runs once per telemetry payload, so it allocates only what it returns: the path
 * of the value being read is kept as a stack of member names and indexes and spelled out only
 * when an error needs it (`$.a.0.b`, names through `fieldName`).
 */
class StrictParser {
  i = 0;
  /** Member names and array indexes from the root down to the value being read. */
  private readonly at: (string | number)[] = [];
  private readonly reserved: ReadonlySet<string> | undefined;

  constructor(
    private readonly text: string,
    private readonly root: string,
    private readonly maxDepth: number,
    reservedKeys: readonly string[] | undefined,
  ) {
    this.reserved = reservedKeys && reservedKeys.length > 0 ? new Set(reservedKeys) : undefined;
  }

  /** Throws the rule broken at the value being read. */
  fail(rule: string): never {
    let path = this.root;
    for (const k of this.at) path += `.${typeof k === 'number' ? k : fieldName(k)}`;
    throw new JsonStrictError(path, rule);
  }

  skipWs(): void {
    const { text } = this;
    let i = this.i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.i = i;
  }

  value(): JsonValue {
    this.skipWs();
    const { text, i } = this;
    const c = text.charCodeAt(i);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74 && text.startsWith('true', i)) {
      this.i += 4;
      return true;
    }
    if (c === 0x66 && text.startsWith('false', i)) {
      this.i += 5;
      return false;
    }
    if (c === 0x6e && text.startsWith('null', i)) {
      this.i += 4;
      return null;
    }
    return this.fail(i >= text.length ? 'unexpected end of input' : `unexpected character at offset ${i}`);
  }

  private object(): JsonValue {
    const { text, at } = this;
    if (at.length >= this.maxDepth) this.fail(`nested deeper than ${this.maxDepth}`);
    this.i++;
    // A null prototype, set on an empty literal: unlike Object.create(null), V8 keeps it a fast object.
    const out = Object.setPrototypeOf({}, null) as Record<string, JsonValue>;
    this.skipWs();
    if (text.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (text.charCodeAt(this.i) !== 0x22) this.fail(`expected a member name at offset ${this.i}`);
      const key = this.string();
      at.push(key);
      if (Object.hasOwn(out, key)) this.fail('duplicate key');
      if (this.reserved?.has(key)) this.fail('reserved key');
      this.skipWs();
      if (text.charCodeAt(this.i) !== 0x3a) this.fail(`expected ':' at offset ${this.i}`);
      this.i++;
      out[key] = this.value();
      at.pop();
      this.skipWs();
      const c = text.charCodeAt(this.i);
      this.i++;
      if (c === 0x7d) return out;
      if (c !== 0x2c) this.fail(`expected ',' or '}' at offset ${this.i - 1}`);
    }
  }

  private array(): JsonValue {
    const { text, at } = this;
    if (at.length >= this.maxDepth) this.fail(`nested deeper than ${this.maxDepth}`);
    this.i++;
    const out: JsonValue[] = [];
    this.skipWs();
    if (text.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    for (;;) {
      at.push(out.length);
      out.push(this.value());
      at.pop();
      this.skipWs();
      const c = text.charCodeAt(this.i);
      this.i++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fail(`expected ',' or ']' at offset ${this.i - 1}`);
    }
  }

  private string(): string {
    const { text } = this;
    let i = this.i + 1;
    const start = i;
    // Fast path: no escapes.
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.i = i + 1;
        return text.slice(start, i);
      }
      if (c === 0x5c || Number.isNaN(c)) break;
      if (c < 0x20) {
        this.i = i;
        this.fail(`control character in a string at offset ${i}`);
      }
      i++;
    }
    let out = text.slice(start, i);
    for (;;) {
      this.i = i;
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 0x22) {
        this.i = i + 1;
        return out;
      }
      if (c < 0x20) this.fail(`control character in a string at offset ${i}`);
      if (c !== 0x5c) {
        out += text[i];
        i++;
        continue;
      }
      const e = text.charCodeAt(i + 1);
      if (e === 0x75) {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) this.fail(`bad \\u escape at offset ${i}`);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      const s = ESC[e];
      if (s === undefined) this.fail(`bad escape at offset ${i}`);
      out += s;
      i += 2;
    }
  }

  /** RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, the longest such prefix. */
  private number(): number {
    const { text } = this;
    const start = this.i;
    let i = start;
    if (text.charCodeAt(i) === 0x2d) i++;
    const first = text.charCodeAt(i);
    if (first === 0x30) i++;
    else if (first >= 0x31 && first <= 0x39) i = digits(text, i + 1);
    else return this.fail(`bad number at offset ${start}`);
    if (text.charCodeAt(i) === 0x2e && isDigit(text.charCodeAt(i + 1))) i = digits(text, i + 2);
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      const sign = text.charCodeAt(i + 1);
      const d = sign === 0x2b || sign === 0x2d ? i + 2 : i + 1;
      if (isDigit(text.charCodeAt(d))) i = digits(text, d + 1);
    }
    this.i = i;
    const n = Number(text.slice(start, i));
    // 1e400 is valid JSON but not a finite number: nothing downstream can store Infinity.
    if (!Number.isFinite(n)) this.fail('number out of range');
    return n;
  }
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
/** The index after the run of digits starting at `i`. */
function digits(text: string, i: number): number {
  while (isDigit(text.charCodeAt(i))) i++;
  return i;
}
