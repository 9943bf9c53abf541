/**
 * The pull feed, for OEMs that cannot receive webhooks (`delivery: pull`). A pull IS a border
 * crossing, checked and logged as a push is:
 *  - the requester's address must be in the OEM's allowedCountries (geoip; loopback and private
 *    addresses need allowPrivateNetworks), or nothing is served (403 SHK_EGRESS_DEST_COUNTRY);
 *  - consent is re-checked per item at pull time: a blocked item is not returned, and is logged
 *    (outcome 'blocked') and settled, never offered again;
 *  - every item returned is an egress-log leaf (outcome 'delivered', destination
 *    `pull:<requester IP>`), made durable through the workers' own settle path BEFORE the answer
 *    leaves — so the log shows every time data crossed, acknowledged or not.
 *
 * Acknowledgement (at-least-once): an item is acknowledged when a later pull names a `cursor` at
 * or past it. Until then every pull returns it again (and logs that crossing again, attempt n).
 * Pulls of one OEM are served one at a time.
 */
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EgressLogEntry, FeedItem } from '../../store/index.js';
import { allows, classify } from '../../egress/destination.js';
import { recordFacts } from '../../egress/record-facts.js';
import { badRequest, notFound, ShekaraError } from '../../errors.js';
import { oemOf, type OemDeps } from './deps.js';
import * as S from './schemas.js';

export function registerFeed(app: FastifyInstance, deps: OemDeps): void {
  const { store, now } = deps;
  const serving = new Map<string, Promise<unknown>>();
  /** One pull per OEM at a time: two at once would serve (and log) the same items twice. */
  const serialized = <T>(oem: string, f: () => Promise<T>): Promise<T> => {
    const next = (serving.get(oem) ?? Promise.resolve()).catch(() => undefined).then(f);
    serving.set(oem, next);
    void next
      .finally(() => {
        if (serving.get(oem) === next) serving.delete(oem);
      })
      .catch(() => undefined);
    return next;
  };

  const requester = async (req: FastifyRequest) => {
    const ip = req.ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    return classify({ address: ip, family: isIP(ip) === 6 ? 6 : 4 });
  };

  app.get<{ Querystring: S.FeedQuery }>(
    '/feed',
    {
      schema: {
        summary: 'Pull your approved projections in order; `cursor` acknowledges what you received',
        querystring: S.FeedQuery,
        response: { 200: S.FeedReply },
      },
    },
    async (req) => {
      const oem = oemOf(req);
      const cfg = await deps.oemSettings(oem);
      if (!cfg) throw notFound(`no OEM ${oem} on this gateway`);
      if (cfg.delivery !== 'pull') {
        throw new ShekaraError(
          'SHK_CONFLICT',
          `OEM ${oem} is configured for push delivery: its projections are POSTed to its endpoint, not pulled`,
        );
      }
      const from = await requester(req);
      if (!allows(cfg, from.country)) {
        req.log.warn(
          { oem, ip: from.address, country: from.country },
          'oem api: pull refused: requester country not allowed',
        );
        const why =
          from.country === 'private'
            ? `${from.address} is a private or loopback address and allowPrivateNetworks is false`
            : `${from.address} is in ${from.country}, not in allowedCountries [${cfg.allowedCountries.join(', ')}]`;
        throw new ShekaraError('SHK_EGRESS_DEST_COUNTRY', `pull from ${why}; nothing was served`);
      }

      return serialized(oem, async () => {
        const position = await store.feedPosition(oem);
        if (req.query.cursor !== undefined) {
          const cursor = Number(req.query.cursor);
          if (cursor > position.served) {
            throw badRequest('querystring.cursor', `${cursor} is past what this feed has served (${position.served})`);
          }
          if (cursor > position.acked) await store.ackFeed(oem, cursor);
        }
        const acked = Math.max(position.acked, Number(req.query.cursor ?? 0));
        const rows = await store.pullFeed(oem, acked, req.query.limit);
        const t = now();
        const outcomes = await Promise.all(
          rows.map(async (row) => {
            const verdict = await deps.isStillAllowed(row);
            const allowed = verdict === true;
            const entry = pulled(row, t, from.address, from.country, verdict);
            await deps.egress.settle(
              allowed ? { kind: 'delivered', outboxId: row.id, entry } : { kind: 'blocked', outboxId: row.id, entry },
            );
            return allowed;
          }),
        );
        const last = rows.at(-1);
        if (last) await store.markFeedServed(oem, last.feedSeq);
        const blocked = outcomes.filter((ok) => !ok).length;
        if (blocked > 0)
          req.log.warn({ oem, blocked }, 'oem api: pulled items blocked at pull time (consent, objection or erasure)');
        return {
          items: rows
            .filter((_, i) => outcomes[i])
            .map((r) => ({ cursor: String(r.feedSeq), body: JSON.parse(r.body) as unknown })),
          nextCursor: String(last?.feedSeq ?? acked),
          more: rows.length === req.query.limit,
        };
      });
    },
  );
}

/** The egress-log entry of one pulled item: a push's entry, with the requester as the destination. */
/** `verdict`: true, or why the item is blocked (false: consent revoked). */
function pulled(row: FeedItem, at: number, ip: string, country: string, verdict: boolean | string): EgressLogEntry {
  const allowed = verdict === true;
  return {
    at,
    oem: row.oem,
    destination: `pull:${ip}`,
    destinationIp: ip,
    destinationCountry: country,
    ...recordFacts(row),
    outcome: allowed ? 'delivered' : 'blocked',
    attempt: row.attempts + 1,
    httpStatus: allowed ? 200 : null,
    error: allowed ? null : typeof verdict === 'string' ? verdict : 'consent revoked',
  };
}
