/**
 * What left the country about the owner's car, from the egress log: each entry (when, OEM,
 * destination and its country, purpose, fields sent, outcome) and totals per OEM and purpose.
 *
 * The log holds pseudonyms; the VIN is resolved to them here — the pseudonyms its stored
 * records crossed under, and the one its OEM knows it by in each epoch of the period (so the
 * report still answers after the records were erased). That is a re-identification, even if
 * for the data subject: like the regulator's, it is logged as an 'access' leaf (who — key and
 * owner binding ids — and which pseudonyms, never the VIN), so a leaked owner token shows in
 * the log as every report it fetched.
 */
import type { FastifyInstance } from 'fastify';
import type { EgressTotalRow, VehicleRow } from '../../store/index.js';
import { badRequest } from '../../errors.js';
import { iso } from '../../time.js';
import { pageQuery } from '../paging.js';
import type { RightsContext } from './context.js';
import * as S from './schemas.js';

const DAY_MS = 86_400_000;
/** Pseudonyms are computed for at most this far back (one HMAC per day of the period). */
const MAX_SPAN_MS = 20 * 366 * DAY_MS;

export function registerReportRoutes(app: FastifyInstance, ctx: RightsContext): void {
  const { store, now } = ctx;

  /** Every pseudonym the vehicle may have crossed under in [from, to). */
  async function pseudonymsOf(v: VehicleRow, from: number, to: number): Promise<string[]> {
    const out = new Set(await store.pseudonymsOfVin(v.vin));
    const start = Math.max(from, to - MAX_SPAN_MS);
    // One a day finds every epoch (epochs are whole days); the end itself too.
    for (let t = start; t < to; t += DAY_MS) out.add(ctx.pseudonym(v, t));
    out.add(ctx.pseudonym(v, Math.max(start, to - 1)));
    return [...out].sort();
  }

  app.get<{ Params: { vin: string }; Querystring: S.ReportQuery }>(
    '/vehicles/:vin/report',
    {
      schema: {
        summary:
          'What left the country about this vehicle: egress-log entries (cursor pagination) and totals per OEM and purpose',
        params: S.VinParams,
        querystring: S.ReportQuery,
        response: { 200: S.ReportReply },
      },
    },
    async (req) => {
      const v = await ctx.vehicle(req);
      const t = now();
      const from = req.query.from === undefined ? undefined : Date.parse(req.query.from);
      const to = req.query.to === undefined ? t : Date.parse(req.query.to);
      if (from !== undefined && from >= to)
        throw badRequest('querystring.to', `must be after from (${req.query.from})`);
      const candidates = await pseudonymsOf(v, from ?? v.createdAt, to);
      const filter = { pseudonyms: candidates, ...(from !== undefined ? { from } : {}), to };
      const totals = await store.egressTotals(filter);
      const { page, nextCursor } = await pageQuery(
        req.query,
        0,
        (after, limit) => store.searchEgress(filter, after, limit),
        (e) => e.seq,
      );

      const crossed = [...new Set(totals.map((r) => r.pseudonym))].sort();
      const leafIndex = await store.appendAuditEvent('access', t, {
        action: 'owner-report',
        apiKey: req.apiKey!.id,
        role: req.apiKey!.role,
        owner: req.owner!.id,
        route: req.routeOptions.url ?? req.url.split('?')[0]!,
        pseudonyms: crossed,
      });
      req.log.info(
        { owner: req.owner!.id, pseudonyms: crossed.length, leafIndex },
        'owner: report of what left the country',
      );
      return {
        vin: v.vin,
        from: from === undefined ? null : iso(from),
        to: iso(to),
        totals: pivot(totals),
        entries: page.map((e) => ({
          seq: e.seq,
          at: iso(e.at),
          oem: e.oem,
          destination: e.destination,
          destinationCountry: e.destinationCountry,
          purpose: e.purpose,
          fieldsSent: [...e.fieldsSent],
          outcome: e.outcome,
          recordId: e.recordId,
          deliveryId: e.deliveryId ?? null,
        })),
        nextCursor,
      };
    },
  );
}

/** Rows per OEM × purpose × outcome × pseudonym → one total per OEM × purpose. */
function pivot(rows: readonly EgressTotalRow[]) {
  const byKey = new Map<
    string,
    {
      oem: string;
      purpose: string;
      delivered: number;
      bytes: number;
      failed: number;
      deadLettered: number;
      blocked: number;
    }
  >();
  for (const r of rows) {
    const key = `${r.oem}\n${r.purpose}`;
    let t = byKey.get(key);
    if (!t)
      byKey.set(
        key,
        (t = { oem: r.oem, purpose: r.purpose, delivered: 0, bytes: 0, failed: 0, deadLettered: 0, blocked: 0 }),
      );
    if (r.outcome === 'delivered') {
      t.delivered += r.records;
      t.bytes += r.bytes;
    } else if (r.outcome === 'failed') t.failed += r.entries;
    else if (r.outcome === 'dead-lettered') t.deadLettered += r.entries;
    else if (r.outcome === 'blocked') t.blocked += r.entries;
  }
  return [...byKey.values()].sort((a, b) => a.oem.localeCompare(b.oem) || a.purpose.localeCompare(b.purpose));
}
