/**
 * GET {prefix}/reports and {prefix}/reports/{name}: the reports of src/reports as JSON (the
 * envelope with its checkpoint) or as a printable HTML document (`format=html`; print it to
 * PDF from the browser). A report is computed against a checkpoint signed now, so the figures
 * can be checked against the log.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { REPORT_NAMES, REPORTS, reportHtml, runReport } from '../../reports/index.js';
import { notFound } from '../../errors.js';
import type { WorkbenchDeps } from './deps.js';

/** A document with no script and only its inline style: nothing else may load or run. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const ReportQuery = Type.Object(
  {
    format: Type.Union([Type.Literal('json'), Type.Literal('html')], { default: 'json' }),
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'ledger: start (RFC 3339)' })),
    to: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'ledger: end, exclusive (RFC 3339)' })),
    since: Type.Optional(
      Type.String({ minLength: 1, maxLength: 40, description: 'processing: changes since (RFC 3339)' }),
    ),
  },
  { additionalProperties: false },
);

export function registerReportRoutes(app: FastifyInstance, deps: WorkbenchDeps, names = REPORT_NAMES): void {
  app.get('/reports', { schema: { summary: 'The reports this surface serves, with their parameters' } }, async () => ({
    reports: names.map((n) => ({ name: n, title: REPORTS[n]!.title, params: REPORTS[n]!.params })),
  }));
  app.get<{
    Params: { name: string };
    Querystring: { format: 'json' | 'html'; from?: string; to?: string; since?: string };
  }>(
    '/reports/:name',
    {
      schema: {
        summary: `A report (${names.join(', ')}) as JSON or printable HTML, with the checkpoint it was computed against`,
        params: Type.Object({ name: Type.String({ pattern: '^[a-z-]{1,40}$' }) }),
        querystring: ReportQuery,
      },
    },
    async (req, reply) => {
      const { format, ...params } = req.query;
      // A report's own refusals (a bad period, …) are ShekaraErrors: thrown on to src/api/http.ts.
      if (!names.includes(req.params.name))
        throw notFound(`no report "${req.params.name}" here; this surface serves ${names.join(', ')}`);
      const env = await runReport(req.params.name, params, {
        store: deps.store,
        config: deps.config,
        checkpoint: await deps.audit.checkpointNow(),
        now: deps.now(),
        lastSweep: deps.lastSweep?.() ?? null,
      });
      if (format === 'html')
        return reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', REPORT_CSP)
          .header('content-disposition', `inline; filename="shekara-${env.report}.html"`)
          .send(reportHtml(env));
      return env;
    },
  );
}
