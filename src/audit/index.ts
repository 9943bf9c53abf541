/**
 * The audit module's one door: `createAuditLog(cfg, deps)` loads (or on first start creates)
 * the log's Ed25519 signing key, signs a C2SP checkpoint every `checkpointIntervalMs` while
 * the log grows, and serves RFC 9162 inclusion and consistency proofs from the store.
 *
 * Leaves are appended by the store itself: on SQLite in the transaction of the outcome they
 * record (store/egress-log/sqlite.ts); on PostgreSQL by the integrator (integrator.ts), which
 * moves settled outcomes into the log in batches. This module never writes an entry itself.
 *
 * Contract: a checkpoint MUST NOT be stored unless the tree it signs is consistent with the
 * previous checkpoint (RFC 9162 §2.1.4.2, checked before signing); a log that shrank or
 * forked stops the signer and is logged at error level.
 */
import type { AuditConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Store, StoredCheckpoint } from '../store/index.js';
import { ErrorCodes, ShekaraError } from '../errors.js';
import {
  consistencyProofAsync,
  inclusionProofAsync,
  rootAtAsync,
  verifyConsistency,
  type AsyncLeafHashSource,
} from './merkle.js';
import type { Histogram } from '@opentelemetry/api';
import { startIntegrator } from './integrator.js';
import { createSelfCheck } from './self-check.js';
import { selfCheckThread } from './self-check-thread.js';
import { sqliteFileOf } from '../store/index.js';
import { generateSigningKey, parseSignerKey, signCheckpoint, verifierKeyOf, type NoteSigner } from './checkpoint.js';

export const AUDIT_SIGNER_SECRET = 'egress-log-signer-key';

type AuditStoreDeps = Pick<
  Store,
  | 'auditTreeSize'
  | 'auditLeafHash'
  | 'auditNode'
  | 'putCheckpoint'
  | 'latestCheckpoint'
  | 'getCheckpoint'
  | 'getSecret'
  | 'putSecretIfAbsent'
  | 'integrateEgressLog'
  | 'exportLeaves'
>;

/** Failures that mean the stored log was altered: signing stops for good (a store error is retried). */
const STOPS_SIGNING = new Set<string>([ErrorCodes.SHK_AUDIT_PROOF, ErrorCodes.SHK_AUDIT_SELF_CHECK]);

export interface AuditDeps {
  readonly store: AuditStoreDeps;
  readonly log: Logger;
  /** Clock for checkpoint timestamps (tests inject one). */
  readonly now?: () => number;
  /** Seconds from an outcome's settle to its integration into the tree (metrics). */
  readonly integrationDelay?: Histogram;
  /**
   * Run the self-check on a worker thread of its own (self-check-thread.ts) when the store is a
   * SQLite file: the gateway does, so its event loop never waits for it. Elsewhere (PostgreSQL,
   * `:memory:`, and without this flag: one-shot commands, tests) it runs on the calling thread.
   */
  readonly selfCheckThread?: boolean;
}

export interface AuditAlarm {
  readonly code: string;
  readonly reason: string;
  readonly message: string;
}

export interface AuditLog {
  readonly origin: string;
  /** `<origin>+<key id>+<base64 key>`: what a regulator needs to check checkpoints. */
  readonly verifierKey: string;
  /** Signs a checkpoint now if the log grew since the last one (or none exists); returns the latest. */
  checkpointNow(): Promise<StoredCheckpoint>;
  /** Set once the stored log failed its check (or shrank): no checkpoint is signed any more. */
  readonly alarm: AuditAlarm | undefined;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  /** RFC 9162 §2.1.3.1 audit path of leaf `index` in the tree of `treeSize` leaves. */
  inclusionProof(index: number, treeSize: number): Promise<Buffer[]>;
  /** RFC 9162 §2.1.4.1 proof that the tree of `size1` leaves is a prefix of the tree of `size2`. */
  consistencyProof(size1: number, size2: number): Promise<Buffer[]>;
  close(): Promise<void>;
}

/** The log's signer, created and stored in local_secrets on first use. Never logged. */
export async function loadOrCreateSigner(
  store: Pick<Store, 'getSecret' | 'putSecretIfAbsent'>,
  origin: string,
): Promise<{ signer: NoteSigner; verifierKey: string }> {
  const stored =
    (await store.getSecret(AUDIT_SIGNER_SECRET)) ??
    (await store.putSecretIfAbsent(AUDIT_SIGNER_SECRET, Buffer.from(generateSigningKey(origin).signerKey, 'utf8')));
  const signer = parseSignerKey(stored.toString('utf8'));
  if (signer.name !== origin) {
    throw new ShekaraError(
      ErrorCodes.SHK_CONFIG_INVALID,
      `audit.origin is "${origin}" but this store's egress log is "${signer.name}" (its key and every checkpoint carry that name); set audit.origin back`,
    );
  }
  return { signer, verifierKey: verifierKeyOf(signer) };
}

/**
 * The stored tree as a proof source, at its size now. Leaves are append-only, so a proof or
 * root over the first `size` leaves stays right while the log keeps growing underneath.
 */
export async function proofSource(
  store: Pick<Store, 'auditTreeSize' | 'auditLeafHash' | 'auditNode'>,
): Promise<AsyncLeafHashSource> {
  return {
    size: await store.auditTreeSize(),
    async leafHash(i) {
      const h = await store.auditLeafHash(i);
      if (!h)
        throw new ShekaraError(ErrorCodes.SHK_AUDIT_PROOF, `leaf ${i} is missing from the store`, {
          details: { reason: 'missing-leaf' },
        });
      return h;
    },
    perfectSubtree: (level, i) => store.auditNode(level, i),
  };
}

export async function createAuditLog(
  cfg: Omit<AuditConfig, 'integrateIntervalMs'> & { readonly integrateIntervalMs?: number },
  deps: AuditDeps,
): Promise<AuditLog> {
  const { store } = deps;
  const log = deps.log.child({ module: 'audit' });
  const now = deps.now ?? Date.now;
  const { signer, verifierKey } = await loadOrCreateSigner(store, cfg.origin);
  let failed: ShekaraError | undefined;
  const file = deps.selfCheckThread ? sqliteFileOf(store) : undefined;
  const selfCheck = file
    ? selfCheckThread(file, { log, now })
    : { ...createSelfCheck(store, now), close: async () => {} };

  /**
   * One signing at a time, in call order: the interval, a route and close() may ask at once,
   * and two signings racing could each read the same previous checkpoint. Each call signs
   * after it was made, so the checkpoint covers every leaf committed before the call.
   */
  let signing: Promise<unknown> = Promise.resolve();
  function checkpointNow(): Promise<StoredCheckpoint> {
    const next = signing.then(sign, sign);
    signing = next.catch(() => undefined);
    return next;
  }

  async function sign(): Promise<StoredCheckpoint> {
    if (failed) throw failed;
    // The last checkpoint first, then the size: another instance on the same store (PostgreSQL)
    // may sign a larger checkpoint in between, which must not look like a log that shrank.
    const prev = await store.latestCheckpoint();
    // The size, then the root of exactly that many leaves (not the store's current root):
    // entries appended between the two reads must not be signed under the smaller size.
    const source = await proofSource(store);
    const size = source.size;
    let root: Buffer;
    try {
      if (prev && prev.size > size) {
        throw new ShekaraError(ErrorCodes.SHK_AUDIT_PROOF, `the log shrank from ${prev.size} to ${size} leaves`, {
          details: { reason: 'log-shrank' },
        });
      }
      // The tree rebuilt from the entries themselves, checked against the previous checkpoint and
      // the stored nodes; also when nothing is new (at start, and the rolling re-check).
      root = await selfCheck.check(size, prev, await rootAtAsync(size, source));
      // RFC 9162 §2.1.4.2: the new tree must extend the one the last checkpoint signed.
      if (prev && prev.size > 0 && prev.size < size)
        verifyConsistency(prev.size, size, await consistencyProofAsync(prev.size, size, source), prev.root, root);
    } catch (err) {
      if (!(err instanceof ShekaraError) || !STOPS_SIGNING.has(err.code)) throw err; // a store error: retried
      failed = err;
      log.error(
        { err, code: err.code, ...err.details, previousSize: prev?.size ?? 0, size },
        'audit: the stored log does not match its leaves or its last checkpoint; no more checkpoints are signed',
      );
      throw err;
    }
    if (prev && prev.size === size) return prev;
    const cp: StoredCheckpoint = {
      size,
      root,
      signedAt: now(),
      note: signCheckpoint({ origin: cfg.origin, size, rootHash: root }, signer),
    };
    await store.putCheckpoint(cp);
    log.debug({ size }, 'audit: checkpoint signed');
    return cp;
  }

  const integrator = startIntegrator(
    { intervalMs: cfg.integrateIntervalMs ?? 100 },
    { store, log, now, delay: deps.integrationDelay },
  );
  // A log that fails its check at start is an alarm, not a refusal to start: cars and OEMs are
  // still served, and the operator sees it in the log, the metric and /readyz.
  await checkpointNow().catch(async (err: unknown) => {
    if (failed) return;
    await integrator.close();
    await selfCheck.close();
    throw err;
  });
  const timer = setInterval(() => {
    checkpointNow().catch((err: unknown) => {
      if (!failed) log.error({ err }, 'audit: signing a checkpoint failed; retried at the next interval');
    });
  }, cfg.checkpointIntervalMs);
  timer.unref();

  return {
    origin: cfg.origin,
    verifierKey,
    checkpointNow,
    get alarm() {
      return failed && { code: failed.code, reason: String(failed.details.reason ?? ''), message: failed.message };
    },
    latestCheckpoint: () => store.latestCheckpoint(),
    inclusionProof: async (index, treeSize) => inclusionProofAsync(index, treeSize, await proofSource(store)),
    consistencyProof: async (size1, size2) => consistencyProofAsync(size1, size2, await proofSource(store)),
    async close() {
      clearInterval(timer);
      await integrator.close();
      try {
        if (!failed) await checkpointNow(); // what was appended before shutdown is signed too
      } catch {
        /* logged above */
      }
      await selfCheck.close();
    },
  };
}
