/**
 * The regulator's workbench on the API surfaces: reports, incidents and the access log, mounted
 * on /regulator/v1 (read-only) and on /admin/v1 (the operator's duties: the inventory, the
 * processing record, incidents).
 */
import type { FastifyInstance } from 'fastify';
import { registerReportRoutes } from './reports.js';
import { registerIncidentRoutes } from './incidents.js';
import type { WorkbenchDeps } from './deps.js';

export type { WorkbenchDeps } from './deps.js';

export function registerWorkbench(app: FastifyInstance, deps: WorkbenchDeps, role: 'regulator' | 'operator'): void {
  registerReportRoutes(app, deps);
  registerIncidentRoutes(app, deps, role);
}
