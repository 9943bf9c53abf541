/** /admin/v1/vehicles and /admin/v1/owners: vehicles, device credentials, owner tokens (docs/admin.md). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { Admin } from '../../admin/index.js';
import * as S from './schemas.js';
import { actorOf, handler, optionalBody } from './reply.js';

type Req<P = unknown, B = unknown, Q = unknown> = FastifyRequest<{ Params: P; Body: B; Querystring: Q }>;
type VinP = Static<typeof S.VinParams>;

export function registerVehicleRoutes(app: FastifyInstance, admin: Admin): void {
  const { vehicles, access } = admin;

  app.get(
    '/vehicles',
    {
      schema: {
        summary: 'List vehicles, optionally of one OEM',
        querystring: S.VehicleQuery,
        response: { 200: S.VehicleList },
      },
    },
    handler(async (req: Req<unknown, unknown, Static<typeof S.VehicleQuery>>) => ({
      vehicles: await vehicles.list({ oem: req.query.oem }),
    })),
  );

  app.post(
    '/vehicles',
    {
      schema: {
        summary: 'Register a vehicle; its device secret is returned once',
        body: S.VehicleCreateBody,
        response: { 201: S.VehicleSecret },
      },
    },
    handler(async (req: Req<unknown, S.VehicleCreateBody>, reply) =>
      reply.code(201).send(await vehicles.register(req.body, actorOf(req))),
    ),
  );

  app.get(
    '/vehicles/:vin',
    { schema: { summary: 'One vehicle (never its secret)', params: S.VinParams, response: { 200: S.Vehicle } } },
    handler(async (req: Req<VinP>) => vehicles.show(req.params.vin)),
  );

  app.post(
    '/vehicles/:vin/credentials/rotate',
    {
      preValidation: optionalBody,
      schema: {
        summary: 'New device secret (returned once); the old one stops working at once and live connections are closed',
        params: S.VinParams,
        body: S.RotateBody,
        response: { 200: S.VehicleSecret },
      },
    },
    handler(async (req: Req<VinP, S.RotateBody>) => vehicles.rotate(req.params.vin, req.body, actorOf(req))),
  );

  app.post(
    '/vehicles/:vin/credentials/revoke',
    {
      preValidation: optionalBody,
      schema: {
        summary: 'Revoke the device credentials: the car is refused and disconnected',
        params: S.VinParams,
        body: S.NoBody,
        response: { 200: S.VehicleRevoked },
      },
    },
    handler(async (req: Req<VinP>) => vehicles.revoke(req.params.vin, actorOf(req))),
  );

  app.get(
    '/vehicles/:vin/owners',
    {
      schema: {
        summary: 'The owner tokens bound to a vehicle (never the tokens)',
        params: S.VinParams,
        response: { 200: S.OwnerList },
      },
    },
    handler(async (req: Req<VinP>) => ({ owners: await access.ownersOfVehicle(req.params.vin) })),
  );

  app.post(
    '/owners',
    {
      schema: {
        summary: 'Bind an owner to vehicles; the owner token is returned once',
        body: S.OwnerCreateBody,
        response: { 201: S.OwnerCreated },
      },
    },
    handler(async (req: Req<unknown, S.OwnerCreateBody>, reply) =>
      reply.code(201).send(await access.createOwnerToken(req.body, actorOf(req))),
    ),
  );

  app.delete(
    '/owners/:id',
    { schema: { summary: 'Revoke an owner token at once', params: S.OwnerParams, response: { 200: S.OwnerRevoked } } },
    handler(async (req: Req<Static<typeof S.OwnerParams>>) => access.revokeOwnerToken(req.params.id, actorOf(req))),
  );
}
