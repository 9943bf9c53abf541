/**
 * Fuzzing every API route, read from the four surfaces' own OpenAPI documents (a route added
 * later is fuzzed without editing this file), with the right key so the input reaches
 * validation: hostile path parameters, documented and undocumented query parameters with
 * non-finite, huge, negative and repeated values, bodies of arbitrary JSON text (duplicate and
 * prototype keys, deep nesting, huge strings), garbage bytes and wrong content types. What must
 * hold: never a 5xx, and every refusal is a JSON answer with a code.
 *
 * Bounded by FUZZ_SECONDS (default 5, budget.ts) or FUZZ_RUNS; the case count is printed.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_TOKEN_HEADER } from '../../src/api/owner/binding.js';
import type { ApiRole } from '../../src/store/index.js';
import { startOemGateway, type OemGateway } from '../api/oem-helpers.js';
import { assertProperty, fuzzBudget } from './budget.js';
import { jsonText, numberText, objectText, PROTO_KEYS } from './payloads.js';

const budget = fuzzBudget();

const SURFACES: Record<string, { prefix: string; role: ApiRole }> = {
  regulator: { prefix: '/regulator/v1', role: 'regulator' },
  admin: { prefix: '/admin/v1', role: 'operator' },
  oem: { prefix: '/oem/v1', role: 'oem' },
  owner: { prefix: '/owner/v1', role: 'owner-app' },
};

interface Operation {
  readonly surface: string;
  readonly method: string;
  readonly path: string;
  readonly pathParams: string[];
  readonly queryParams: string[];
  readonly bodyKeys: string[];
}

/** Values no route should take, as the text a client would send. */
const hostile: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'Infinity',
    '-Infinity',
    'NaN',
    '1e400',
    '-1',
    '0',
    '9007199254740993',
    '1.5',
    '',
    ' ',
    'null',
    'true',
    '[]',
    '{}',
    '%00',
    '../../etc/passwd',
    '\u0000',
    'LSHKZTEST00000001',
    'a'.repeat(5_000),
    'é'.repeat(300),
    ...PROTO_KEYS,
  ),
  numberText,
  fc.string({ unit: 'binary', maxLength: 30 }),
);

/** Percent-encoded UTF-8; a lone surrogate becomes U+FFFD, as a browser's URL would make it. */
const encode = (s: string) =>
  encodeURIComponent(s.replace(/[\ud800-\udfff]/g, (c, i: number) => (isPaired(s, i) ? c : '\ufffd')));
const isPaired = (s: string, i: number) => {
  const c = s.charCodeAt(i);
  return c < 0xdc00 ? (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 : i > 0 && (s.charCodeAt(i - 1) & 0xfc00) === 0xd800;
};

function requests(ops: readonly Operation[]) {
  const anyKey = fc.constantFrom('x', 'limit', 'after', 'from', 'to', 'size', ...PROTO_KEYS);
  return fc.record({
    op: fc.constantFrom(...ops),
    pathValues: fc.array(fc.oneof(hostile.map(encode), fc.constantFrom('%', '%zz', '%2e%2e', '..', '%c0%af')), {
      minLength: 4,
      maxLength: 4,
    }),
    query: fc.array(fc.tuple(fc.oneof(fc.nat(), anyKey), hostile), { maxLength: 5 }),
    body: fc.oneof(
      fc.constant(undefined),
      jsonText(['type', 'id', 'role', 'purpose', 'params', 'endpoint', 'mtls', 'enabled', 'label'], 3),
      fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b).toString('latin1')),
    ),
    bodyKeys: fc.boolean(),
    keyedBody: objectText(
      fc.constantFrom('"type"', '"role"', '"params"', '"__proto__"'),
      fc.oneof(numberText, jsonText([], 2)),
    ),
    contentType: fc.constantFrom(
      'application/json',
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-16',
      undefined,
    ),
  });
}

describe('fuzz › every API route with bad input', () => {
  let g: OemGateway;
  let ownerToken = '';
  const ops: Operation[] = [];

  beforeAll(async () => {
    g = await startOemGateway([
      {
        id: 'oem-a',
        cars: 1,
        config: { delivery: 'pull', apiRateLimit: { requestsPerSecond: 10_000, burst: 10_000 } },
      },
    ]);
    ownerToken = (
      await g.gw.app.store.createOwnerToken({ ownerRef: 'owner-a', vins: [g.cars['oem-a']![0]!.vin], now: Date.now() })
    ).token;
    for (const [surface, { prefix, role }] of Object.entries(SURFACES)) {
      const doc = await g.call(
        'GET',
        `${prefix}/openapi.json`,
        g.key(role, role === 'oem' ? 'oem-a' : undefined),
        undefined,
        {
          [OWNER_TOKEN_HEADER]: ownerToken,
        },
      );
      expect(doc.status, `${prefix}/openapi.json`).toBe(200);
      const paths = (doc.body as { paths: Record<string, Record<string, OpenApiOperation>> }).paths;
      for (const [path, byMethod] of Object.entries(paths)) {
        for (const [method, op] of Object.entries(byMethod)) {
          const params = op.parameters ?? [];
          const body = op.requestBody?.content?.['application/json']?.schema?.properties ?? {};
          ops.push({
            surface,
            method: method.toUpperCase(),
            path,
            pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
            queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
            bodyKeys: Object.keys(body),
          });
        }
      }
    }
  }, 60_000);
  afterAll(async () => g?.stop());

  it(
    'never answers 5xx, and every refusal is JSON with a code',
    async () => {
      const statuses = new Map<number, number>();
      const routes = new Set<string>();
      let cases = 0;
      const started = Date.now();
      await assertProperty(
        fc.asyncProperty(requests(ops), async (r) => {
          if (budget.over()) return;
          cases += 1;
          const { op } = r;
          routes.add(`${op.method} ${op.path}`);
          let i = 0;
          const path = op.path.replace(/\{[A-Za-z]+\}/g, () => r.pathValues[i++ % r.pathValues.length]!);
          const query = r.query
            .map(
              ([k, v]) =>
                `${encode(typeof k === 'number' ? (op.queryParams[k % Math.max(1, op.queryParams.length)] ?? 'x') : k)}=${encode(v)}`,
            )
            .join('&');
          const role = SURFACES[op.surface]!.role;
          const withBody = op.method !== 'GET' && op.method !== 'DELETE' && op.method !== 'HEAD';
          const body = withBody ? (r.bodyKeys && op.bodyKeys.length > 0 ? r.keyedBody : r.body) : undefined;
          const res = await fetch(`${g.gw.httpUrl}${path}${query ? `?${query}` : ''}`, {
            method: op.method,
            headers: {
              authorization: `Bearer ${g.key(role, role === 'oem' ? 'oem-a' : undefined)}`,
              [OWNER_TOKEN_HEADER]: ownerToken,
              ...(body !== undefined && r.contentType ? { 'content-type': r.contentType } : {}),
            },
            ...(body !== undefined ? { body } : {}),
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const what = `${op.method} ${op.path} answered ${res.status}`;
          expect(res.status, `${what}: ${text.slice(0, 200)}`).toBeLessThan(500);
          if (res.status >= 400 && res.status !== 431 && res.status !== 414) {
            let answer: { code?: unknown } | undefined;
            try {
              answer = JSON.parse(text) as { code?: unknown };
            } catch {
              /* checked below */
            }
            expect(typeof answer?.code, `${what} without a JSON code: ${text.slice(0, 200)}`).toBe('string');
          }
        }),
        budget,
      );
      const health = await fetch(`${g.gw.httpUrl}/healthz`);
      console.log(
        `fuzz API: ${cases} requests over ${routes.size} of ${ops.length} routes in ${Math.round((Date.now() - started) / 1000)} s; ` +
          `statuses ${[...statuses]
            .sort(([a], [b]) => a - b)
            .map(([s, n]) => `${s}×${n}`)
            .join(' ')}; 0 5xx`,
      );
      expect(health.status).toBe(200);
      expect(cases).toBeGreaterThan(0);
    },
    budget.timeout,
  );
});

interface OpenApiOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}
