/**
 * The operator admin API's one door: `registerAdminApi(http, deps)` mounts /admin/v1/ behind
 * operator keys (docs/admin.md). Every change it makes is also a `shekara` CLI command.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import type { Admin } from '../../admin/index.js';
import { mountSurface } from '../surface.js';
import { registerAdminRoutes } from './routes.js';
import { registerObjectionAdmin } from './objections.js';
import { registerWorkbench } from '../workbench/index.js';
import type { WorkbenchDeps } from '../workbench/deps.js';

export const ADMIN_PREFIX = '/admin/v1';

export interface AdminDeps {
  readonly store: Store;
  readonly now: () => number;
  /** The admin operations, applied to the running gateway (src/admin). */
  readonly admin: Admin;
  /** Reports, incidents and the access log (src/api/workbench); absent: those routes are not mounted. */
  readonly workbench?: WorkbenchDeps;
}

export async function registerAdminApi(http: FastifyInstance, deps: AdminDeps): Promise<void> {
  await mountSurface(http, {
    prefix: ADMIN_PREFIX,
    role: 'operator',
    store: deps.store,
    now: deps.now,
    info: {
      title: 'Shekara operator admin API',
      description:
        'Register OEMs, vehicles and their credentials, load and activate policies, manage API keys. See docs/admin.md.',
      keyHint: 'an operator key from `shekara apikey create --role operator`',
    },
    routes: (app) => {
      registerAdminRoutes(app, deps.admin);
      registerObjectionAdmin(app, deps);
      if (deps.workbench) registerWorkbench(app, deps.workbench, 'operator');
    },
  });
}
