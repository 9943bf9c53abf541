/** Every /admin/v1 route, registered behind the operator guard by index.ts. */
import type { FastifyInstance } from 'fastify';
import type { Admin } from '../../admin/index.js';
import { registerOemRoutes } from './oems.js';
import { registerVehicleRoutes } from './vehicles.js';
import { registerKeyRoutes } from './keys.js';

export function registerAdminRoutes(app: FastifyInstance, admin: Admin): void {
  registerOemRoutes(app, admin);
  registerVehicleRoutes(app, admin);
  registerKeyRoutes(app, admin);
}
