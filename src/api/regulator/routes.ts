/**
 * Regulator routes (read-only). Every answer comes from the egress log; every proof is RFC 9162.
 * A VIN in a query is resolved to its pseudonyms here, and that re-identification is appended
 * to the log itself as an 'access' leaf (who, when, which pseudonyms; never the VIN).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound, ShekaraError } from '../../errors.js';
import { iso } from '../../time.js';
import { pageQuery } from '../paging.js';
import type { ApiKeyStore, AuditQueryStore, AuditStore, EgressSearch, StoredCheckpoint } from '../../store/index.js';
import type { AuditLog } from '../../audit/index.js';
import { proofSource } from '../../audit/index.js';
import { canonicalJson } from '../../audit/leaf.js';
import { rootAtAsync } from '../../audit/merkle.js';
import { exportLines } from '../../audit/export.js';
import * as S from './schemas.js';
import { toApiEntry } from '../views/egress-entry.js';
import type { WorkbenchDeps } from '../workbench/deps.js';

/**
 * What the regulator surface may ask of the store: the egress log, its tree and checkpoints (and
 * the 'access' leaves it appends), and the key check at its door. Nothing else reaches it.
 */
export type RegulatorStore = AuditStore & AuditQueryStore & Pick<ApiKeyStore, 'authenticateApiKey'>;

export interface RegulatorDeps {
  readonly store: RegulatorStore;
  readonly audit: AuditLog;
  readonly now: () => number;
  /** Reports, incidents and the access log (src/api/workbench); absent: those routes are not mounted. */
  readonly workbench?: WorkbenchDeps;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const PAGE = 1_000;

const CSV_COLUMNS = [
  'seq',
  'leafIndex',
  'at',
  'oem',
  'destination',
  'destinationIp',
  'destinationCountry',
  'recordId',
  'deliveryId',
  'pseudonym',
  'purpose',
  'policyHash',
  'fieldsSent',
  'fieldsDropped',
  'payloadSha256',
  'payloadBytes',
  'outcome',
  'attempt',
  'httpStatus',
  'error',
  'traceId',
] as const;

/** RFC 4180: quote a field holding a comma, quote or line break; lists are joined with ';'. */
function csvLine(e: S.Entry): string {
  const cell = (v: unknown) => {
    const s = v === null ? '' : Array.isArray(v) ? v.join(';') : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return `${CSV_COLUMNS.map((c) => cell(e[c])).join(',')}\r\n`;
}

export function registerRoutes(app: FastifyInstance, deps: RegulatorDeps): void {
  const { store, audit, now } = deps;

  const apiCheckpoint = (cp: StoredCheckpoint) => ({
    origin: audit.origin,
    size: cp.size,
    rootHash: b64(cp.root),
    signedAt: iso(cp.signedAt),
    note: cp.note,
  });

  /** Query → store filter; a VIN is re-identified into pseudonyms, and that act is logged. */
  async function toFilter(q: Omit<Partial<S.SearchQuery>, 'limit'>, req: FastifyRequest): Promise<EgressSearch> {
    let pseudonyms: string[] | undefined;
    if (q.vin !== undefined) {
      pseudonyms = await store.pseudonymsOfVin(q.vin);
      const index = await store.appendAuditEvent('access', now(), {
        action: 'vin-resolved',
        apiKey: req.apiKey!.id,
        role: req.apiKey!.role,
        route: req.routeOptions.url ?? req.url.split('?')[0]!,
        pseudonyms,
      });
      req.log.info(
        { apiKey: req.apiKey!.id, pseudonyms: pseudonyms.length, leafIndex: index },
        'regulator: VIN re-identified',
      );
    }
    return {
      ...(q.oem !== undefined ? { oem: q.oem } : {}),
      ...(pseudonyms ? { pseudonyms } : {}),
      ...(q.from !== undefined ? { from: Date.parse(q.from) } : {}),
      ...(q.to !== undefined ? { to: Date.parse(q.to) } : {}),
      ...(q.field !== undefined ? { field: q.field } : {}),
      ...(q.country !== undefined ? { country: q.country } : {}),
      ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
      ...(q.policyHash !== undefined ? { policyHash: q.policyHash } : {}),
      ...(q.recordId !== undefined ? { recordId: q.recordId } : {}),
      ...(q.deliveryId !== undefined ? { deliveryId: q.deliveryId } : {}),
    };
  }

  app.get<{ Querystring: S.SearchQuery }>(
    '/entries',
    {
      schema: {
        summary: 'Search egress-log entries (cursor pagination, oldest first)',
        querystring: S.SearchQuery,
        response: { 200: S.SearchReply },
      },
    },
    async (req) => {
      const filter = await toFilter(req.query, req);
      const { page, nextCursor } = await pageQuery(
        req.query,
        0,
        (after, limit) => store.searchEgress(filter, after, limit),
        (e) => e.seq,
      );
      return { entries: page.map(toApiEntry), nextCursor };
    },
  );

  app.get<{ Querystring: S.ExportQuery }>(
    '/entries/export',
    {
      schema: {
        summary: 'Stream every matching entry as NDJSON or CSV',
        querystring: S.ExportQuery,
        produces: ['application/x-ndjson', 'text/csv'],
      },
    },
    async (req, reply) => {
      const { format, ...q } = req.query;
      const filter = await toFilter(q, req);
      async function* lines(): AsyncGenerator<string> {
        if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
        for (let after = 0; ;) {
          const rows = await store.searchEgress(filter, after, PAGE);
          if (rows.length === 0) return;
          for (const r of rows) yield format === 'csv' ? csvLine(toApiEntry(r)) : `${JSON.stringify(toApiEntry(r))}\n`;
          after = rows.at(-1)!.seq;
          await new Promise((r) => setImmediate(r));
        }
      }
      reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="egress-entries.${format === 'csv' ? 'csv' : 'ndjson'}"`);
      return reply.send(Readable.from(lines()));
    },
  );

  app.get<{ Params: { seq: number }; Querystring: { checkpoint?: number } }>(
    '/entries/:seq',
    {
      schema: {
        summary: 'One entry, its leaf, and its inclusion proof against a checkpoint',
        params: S.SeqParams,
        querystring: S.EntryQuery,
        response: { 200: S.EntryReply },
      },
    },
    async (req) => {
      const entry = await store.egressEntry(req.params.seq);
      if (!entry) throw notFound(`no entry with seq ${req.params.seq}`);
      let cp: StoredCheckpoint | undefined;
      if (req.query.checkpoint !== undefined) {
        cp = await store.getCheckpoint(req.query.checkpoint);
        if (!cp) throw notFound(`no checkpoint of size ${req.query.checkpoint}`);
        if (cp.size <= entry.leafIndex)
          throw new ShekaraError(
            'SHK_BAD_REQUEST',
            `checkpoint ${cp.size} was signed before entry ${entry.seq} (leaf ${entry.leafIndex}) was appended`,
          );
      } else {
        cp = await audit.latestCheckpoint();
        if (!cp || cp.size <= entry.leafIndex) cp = await audit.checkpointNow();
      }
      const [leaf] = await store.exportLeaves(entry.leafIndex - 1, entry.leafIndex + 1, 1);
      return {
        entry: toApiEntry(entry),
        leaf: { index: leaf!.index, hash: leaf!.leafHash, canonical: canonicalJson(leaf!.entry) },
        checkpoint: apiCheckpoint(cp),
        inclusionProof: (await audit.inclusionProof(entry.leafIndex, cp.size)).map(b64),
      };
    },
  );

  app.get(
    '/checkpoints/latest',
    {
      schema: { summary: 'The latest signed checkpoint', response: { 200: S.Checkpoint } },
    },
    async () => apiCheckpoint((await audit.latestCheckpoint()) ?? (await audit.checkpointNow())),
  );

  app.get<{ Querystring: S.CheckpointListQuery }>(
    '/checkpoints',
    {
      schema: {
        summary: 'Every signed checkpoint, newest first (cursor pagination)',
        querystring: S.CheckpointListQuery,
        response: { 200: S.CheckpointList },
      },
    },
    async (req) => {
      // Newest first: the first page starts below every size.
      const { page, nextCursor } = await pageQuery(
        req.query,
        Number.MAX_SAFE_INTEGER,
        (before, limit) => store.listCheckpoints(before, limit),
        (c) => c.size,
      );
      return { checkpoints: page.map(apiCheckpoint), nextCursor };
    },
  );

  app.get<{ Params: { size: number } }>(
    '/checkpoints/:size',
    {
      schema: {
        summary: 'The checkpoint signed at a tree size',
        params: S.SizeParams,
        response: { 200: S.Checkpoint },
      },
    },
    async (req) => {
      const cp = await store.getCheckpoint(req.params.size);
      if (!cp) throw notFound(`no checkpoint of size ${req.params.size}`);
      return apiCheckpoint(cp);
    },
  );

  app.get<{ Querystring: { from: number; to: number } }>(
    '/consistency',
    {
      schema: {
        summary: 'Consistency proof between two tree sizes',
        querystring: S.ConsistencyQuery,
        response: { 200: S.ConsistencyReply },
      },
    },
    async (req) => {
      const { from, to } = req.query;
      const source = await proofSource(store);
      const size = source.size;
      if (from > to || to > size)
        throw new ShekaraError(
          'SHK_BAD_REQUEST',
          `need 0 < from <= to <= ${size} (the current tree size); got from=${from}, to=${to}`,
        );
      const [fromRoot, toRoot, proof] = await Promise.all([
        rootAtAsync(from, source),
        rootAtAsync(to, source),
        audit.consistencyProof(from, to),
      ]);
      return { from, to, fromRoot: b64(fromRoot), toRoot: b64(toRoot), proof: proof.map(b64) };
    },
  );

  app.get<{ Querystring: { size?: number } }>(
    '/log/export',
    {
      schema: {
        summary: 'The whole log up to a tree size, one leaf per line: the input of `shekara verify`',
        querystring: S.LogExportQuery,
        produces: ['application/x-ndjson'],
      },
    },
    async (req, reply) => {
      const size = req.query.size ?? ((await audit.latestCheckpoint()) ?? (await audit.checkpointNow())).size;
      const treeSize = await store.auditTreeSize();
      if (size > treeSize)
        throw new ShekaraError('SHK_BAD_REQUEST', `size ${size} is beyond the tree (${treeSize} leaves)`);
      reply
        .type('application/x-ndjson')
        .header('x-shekara-tree-size', String(size))
        .header('content-disposition', `attachment; filename="egress-log-${size}.ndjson"`);
      return reply.send(Readable.from(exportLines(store, size)));
    },
  );

  app.get(
    '/pubkey',
    {
      schema: { summary: "The log's verifier key (also: `shekara audit pubkey`)", response: { 200: S.PubkeyReply } },
    },
    async () => ({ origin: audit.origin, verifierKey: audit.verifierKey }),
  );

  app.get<{ Querystring: S.SummaryQuery }>(
    '/reports/summary',
    {
      schema: {
        summary: 'Delivered records and bytes per day × OEM × destination country × field',
        querystring: S.SummaryQuery,
        response: { 200: S.SummaryReply },
      },
    },
    async (req) => ({ rows: await store.egressSummary(await toFilter(req.query, req)) }),
  );
}
