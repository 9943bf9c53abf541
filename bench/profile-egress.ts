/**
 * The egress side's stages for bench/profile-summary.ts (`--stages egress`): what delivery and the
 * egress log spend their time on, in the egress, writer and self-check threads and in
 * bench/audit-append.ts. A sample goes to the innermost frame a rule names, so a SHA-256 called by
 * the signer counts as signing and the same call from the leaf hash as hashing; the store's
 * statement wrappers (better-sqlite3's, ingest-tx's `held`) are passed over, so a statement counts
 * for the code that ran it, and only better-sqlite3's own transaction frame, as a sample's own
 * frame, is BEGIN/COMMIT (with the fsync of synchronous=FULL).
 */
import type { CallFrame } from './profile-summary.js';

/**
 * A stage and the frames that belong to it; the first rule that names a frame wins. `self`: only
 * when the frame is the sample's own (its self time), not when it called the code running.
 * `transparent`: a wrapper that does not say what the work is for: passed over, its caller decides.
 */
interface Rule {
  readonly group: string;
  readonly matches: (f: CallFrame) => boolean;
  readonly self?: boolean;
  readonly transparent?: boolean;
}

const code = (...parts: string[]) => {
  const re = new RegExp(`/(?:dist|src)/(?:${parts.join('|')})`);
  return (f: CallFrame) => re.test(f.url);
};
const pkg = (...names: string[]) => {
  const re = new RegExp(`node_modules/(?:${names.join('|')})/`);
  return (f: CallFrame) => re.test(f.url);
};
const fn = (names: RegExp, where: (f: CallFrame) => boolean) => (f: CallFrame) =>
  names.test(f.functionName) && where(f);
const native = (...names: string[]) => {
  const set = new Set(names);
  return (f: CallFrame) => f.url === '' && set.has(f.functionName);
};

const RULES: readonly Rule[] = [
  { group: 'GC', matches: (f) => f.functionName === '(garbage collector)' },
  { group: 'V8 and native, no JS frame', matches: (f) => f.functionName === '(program)' },
  { group: 'JSON (parse, stringify)', matches: native('parse', 'stringify'), self: true },
  // better-sqlite3's transaction wrapper runs BEGIN and COMMIT (with the fsync) in its own frame.
  {
    group: 'SQLite BEGIN/COMMIT (fsync)',
    matches: fn(/^sqliteTransaction$/, pkg('better-sqlite3')),
    self: true,
  },
  { group: '', matches: (f) => pkg('better-sqlite3')(f) || code('store/sqlite/ingest-tx\\.')(f), transparent: true },
  // Loading modules (undici's at the first delivery): the loaders' frames, not a module's own
  // top-level code that the ESM job runs (a bench script's main body).
  {
    group: 'start-up (module loading)',
    matches: (f) => /^node:internal\/modules\/(?:cjs\/|helpers|esm\/(?!module_job))/.test(f.url),
  },
  { group: '', matches: (f) => /^node:internal\/modules\//.test(f.url), transparent: true },
  { group: 'signing (HMAC of each POST)', matches: code('egress/sign\\.') },
  {
    group: 'Merkle hashing (leaf, nodes)',
    matches: code('audit/leaf\\.', 'audit/merkle\\.', 'audit/compact-range\\.'),
  },
  { group: 'egress-log staging (entry row, leaf row, tree nodes)', matches: code('store/egress-log/', 'store/audit/') },
  {
    group: 'outbox settles (status, settled check)',
    matches: fn(
      /^(?:mark(?:Delivered|Failed|Dead|Blocked)|isSettled|settleOutbox|settle|defer)$/,
      code('store/outbox/'),
    ),
  },
  {
    group: 'consent check (VIN, consent, objections)',
    matches: (f) =>
      code('policy/consent\\.', 'store/consent/', 'store/objections/')(f) || fn(/^recordVin$/, code('store/'))(f),
  },
  {
    group: 'ingest commits (records, outbox rows, route points)',
    matches: (f) =>
      code('store/records/', 'store/mqtt-qos2/', 'ingest/', 'policy/')(f) || fn(/^insert$/, code('store/outbox/'))(f),
  },
  { group: 'outbox reads (due heads, chains, rows)', matches: code('store/outbox/', 'store/json-column\\.') },
  {
    group: 'HTTP client (undici, sockets)',
    matches: (f) =>
      pkg('undici')(f) ||
      native('writev', 'writeUtf8String', 'writeBuffer')(f) ||
      /^node:(?:net|_http|internal\/(?:net|stream|streams|deps\/undici|abort_controller))/.test(f.url),
  },
  {
    group: 'thread messages (writer port, logs, metrics)',
    matches: (f) =>
      /^node:internal\/(?:worker|event_target)/.test(f.url) ||
      native('postMessage')(f) ||
      code('store/sqlite/ingest-writer', 'egress/thread')(f),
  },
  { group: 'logging', matches: (f) => pkg('pino')(f) || code('log\\.')(f) },
  { group: 'telemetry (spans, metrics)', matches: pkg('@opentelemetry/[^/]+') },
  { group: 'egress: queue, chains, batches, checks', matches: code('egress/') },
  { group: 'store: other', matches: code('store/') },
];

/** The stages, in the order the rules name them (which is the order tables list them). */
export const EGRESS_STAGES: readonly string[] = [
  ...new Set(RULES.filter((r) => !r.transparent).map((r) => r.group)),
  'other',
];

/**
 * The egress stage of one frame, or undefined when it says nothing (or is a wrapper to pass over):
 * the caller then looks at the frame that called it. `own`: the frame is the sample's own.
 */
export function egressStageOf(f: CallFrame, own: boolean): string | undefined {
  const rule = RULES.find((r) => (!r.self || own) && r.matches(f));
  return rule && !rule.transparent ? rule.group : undefined;
}
