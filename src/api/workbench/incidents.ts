/**
 * Incidents on the API: the operator opens one, exports its notice and closes it
 * (/admin/v1/incidents); the regulator reads them, with their clocks, without identifiers
 * (/regulator/v1/incidents). Every step is an 'incident' leaf (src/incidents).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { createIncidents, regulatorView, type IncidentInput } from '../../incidents/index.js';
import { noticeTables } from '../../incidents/notice.js';
import { checkpointRef } from '../../reports/index.js';
import { renderHtml } from '../../reports/html.js';
import { REPORT_CSP } from './reports.js';
import type { WorkbenchDeps } from './deps.js';

const Id = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });
const Time = Type.String({ format: 'date-time' });
const OpenBody = Type.Object(
  {
    summary: Type.String({ minLength: 1, maxLength: 4_000 }),
    discoveredAt: Time,
    scopeFrom: Type.Optional(Time),
    scopeTo: Type.Optional(Time),
    vins: Type.Optional(Type.Array(Type.String({ pattern: '^[A-HJ-NPR-Z0-9]{17}$' }), { maxItems: 10_000 })),
    oems: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), { maxItems: 100 })),
    measures: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2_000 }), { maxItems: 100 })),
  },
  { additionalProperties: false },
);
const CloseBody = Type.Object(
  { measures: Type.Array(Type.String({ minLength: 1, maxLength: 2_000 }), { maxItems: 100, default: [] }) },
  { additionalProperties: false },
);
const NoticeQuery = Type.Object(
  { format: Type.Union([Type.Literal('json'), Type.Literal('html')], { default: 'html' }) },
  { additionalProperties: false },
);

const ms = (v: string | undefined) => (v === undefined ? undefined : Date.parse(v));

export function registerIncidentRoutes(
  app: FastifyInstance,
  deps: WorkbenchDeps,
  role: 'regulator' | 'operator',
): void {
  const incidents = createIncidents(deps.config, { store: deps.store, now: deps.now });

  if (role === 'regulator') {
    app.get('/incidents', { schema: { summary: 'Incidents with their clocks (no identifiers)' } }, async () => ({
      incidents: (await incidents.list()).map((i) => regulatorView(i, deps.now())),
    }));
    app.get<{ Params: { id: string } }>(
      '/incidents/:id',
      { schema: { summary: 'One incident (no identifiers)', params: Id } },
      async (req) => regulatorView(await incidents.get(req.params.id), deps.now()),
    );
    return;
  }

  const actor = (req: { apiKey?: { id: string } }) => ({ source: 'operator' as const, apiKey: req.apiKey?.id ?? null });
  app.get('/incidents', { schema: { summary: 'Incidents, newest first' } }, async () => ({
    incidents: await incidents.list(),
  }));
  app.post<{ Body: typeof OpenBody.static }>(
    '/incidents',
    { schema: { summary: 'Open an incident; Shekara pre-fills the notice and starts its clock', body: OpenBody } },
    async (req, reply) => {
      const b = req.body;
      const input: IncidentInput = {
        summary: b.summary,
        discoveredAt: Date.parse(b.discoveredAt),
        scopeFrom: ms(b.scopeFrom),
        scopeTo: ms(b.scopeTo),
        vins: b.vins,
        oems: b.oems,
        measures: b.measures,
      };
      return reply.code(201).send(await incidents.open(input, actor(req)));
    },
  );
  app.get<{ Params: { id: string } }>(
    '/incidents/:id',
    { schema: { summary: 'One incident, with identifiers', params: Id } },
    async (req) => incidents.get(req.params.id),
  );
  app.post<{ Params: { id: string }; Querystring: { format: 'json' | 'html' } }>(
    '/incidents/:id/notice',
    {
      schema: {
        summary: 'Export the notice to the authorized body (a step, logged), as HTML to print or JSON',
        params: Id,
        querystring: NoticeQuery,
      },
    },
    async (req, reply) => {
      const i = await incidents.exportNotice(req.params.id, actor(req));
      const env = {
        report: 'incident-notice',
        title: 'Personal-data incident notice',
        generatedAt: new Date(deps.now()).toISOString(),
        checkpoint: checkpointRef(deps.config.audit.origin, await deps.audit.checkpointNow()),
        params: { incident: i.id },
        data: i,
      };
      if (req.query.format === 'json') return env;
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', REPORT_CSP)
        .header('content-disposition', `attachment; filename="incident-${i.id}.html"`)
        .send(renderHtml(env, noticeTables(i)));
    },
  );
  app.post<{ Params: { id: string }; Body: typeof CloseBody.static }>(
    '/incidents/:id/close',
    { schema: { summary: 'Close an incident, adding the measures taken', params: Id, body: CloseBody } },
    async (req) => incidents.close(req.params.id, req.body.measures, actor(req)),
  );
}
