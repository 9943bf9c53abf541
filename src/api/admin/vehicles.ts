/** /admin/v1/vehicles and /admin/v1/owners: vehicles, device credentials, owner tokens (docs/admin.md). */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { Admin } from '../../admin/index.js';
import * as S from './schemas.js';
import { actorOf, optionalBody } from './request.js';

type VinP = Static<typeof S.VinParams>;

export function registerVehicleRoutes(app: FastifyInstance, admin: Admin): void {
  const { vehicles, access } = admin;

  app.get<{ Querystring: Static<typeof S.VehicleQuery> }>(
    '/vehicles',
    {
      schema: {
        summary: 'List vehicles, optionally of one OEM',
        querystring: S.VehicleQuery,
        response: { 200: S.VehicleList },
      },
    },
    async (req) => ({
      vehicles: await vehicles.list({ oem: req.query.oem }),
    }),
  );

  app.post<{ Body: S.VehicleCreateBody }>(
    '/vehicles',
    {
      schema: {
        summary: 'Register a vehicle; its device secret is returned once',
        body: S.VehicleCreateBody,
        response: { 201: S.VehicleSecret },
      },
    },
    async (req, reply) => reply.code(201).send(await vehicles.register(req.body, actorOf(req))),
  );

  app.get<{ Params: VinP }>(
    '/vehicles/:vin',
    { schema: { summary: 'One vehicle (never its secret)', params: S.VinParams, response: { 200: S.Vehicle } } },
    async (req) => vehicles.show(req.params.vin),
  );

  app.post<{ Params: VinP; Body: S.RotateBody }>(
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
    async (req) => vehicles.rotate(req.params.vin, req.body, actorOf(req)),
  );

  app.post<{ Params: VinP }>(
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
    async (req) => vehicles.revoke(req.params.vin, actorOf(req)),
  );

  app.post<{ Params: VinP }>(
    '/vehicles/:vin/gbt32960/iccid-pin/clear',
    {
      preValidation: optionalBody,
      schema: {
        summary:
          "After a SIM swap: clear the GB/T 32960 terminal's ICCID pin; its next login pins the new card (docs/gbt32960.md)",
        params: S.VinParams,
        body: S.NoBody,
        response: { 200: S.IccidPinCleared },
      },
    },
    async (req) => vehicles.clearGbt32960IccidPin(req.params.vin, actorOf(req)),
  );

  app.get<{ Params: VinP }>(
    '/vehicles/:vin/owners',
    {
      schema: {
        summary: 'The owner tokens bound to a vehicle (never the tokens)',
        params: S.VinParams,
        response: { 200: S.OwnerList },
      },
    },
    async (req) => ({ owners: await access.ownersOfVehicle(req.params.vin) }),
  );

  app.post<{ Body: S.OwnerCreateBody }>(
    '/owners',
    {
      schema: {
        summary: 'Bind an owner to vehicles; the owner token is returned once',
        body: S.OwnerCreateBody,
        response: { 201: S.OwnerCreated },
      },
    },
    async (req, reply) => reply.code(201).send(await access.createOwnerToken(req.body, actorOf(req))),
  );

  app.delete<{ Params: Static<typeof S.OwnerParams> }>(
    '/owners/:id',
    { schema: { summary: 'Revoke an owner token at once', params: S.OwnerParams, response: { 200: S.OwnerRevoked } } },
    async (req) => access.revokeOwnerToken(req.params.id, actorOf(req)),
  );
}
