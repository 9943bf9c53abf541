/** /admin/v1/oems: the OEM registry and each OEM's policies (docs/admin.md). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { Admin } from '../../admin/index.js';
import * as S from './schemas.js';
import { actorOf, handler, optionalBody } from './reply.js';

type Req<P = unknown, B = unknown> = FastifyRequest<{ Params: P; Body: B }>;
type OemP = Static<typeof S.OemParams>;
type PolicyP = Static<typeof S.PolicyParams>;

export function registerOemRoutes(app: FastifyInstance, admin: Admin): void {
  const { oems, policies } = admin;

  app.get(
    '/oems',
    { schema: { summary: 'List the OEM registry (config and API OEMs)', response: { 200: S.OemList } } },
    handler(async () => ({ oems: await oems.list() })),
  );

  app.post(
    '/oems',
    {
      schema: {
        summary: 'Register an OEM; a generated signing key is returned once',
        body: S.OemCreateBody,
        response: { 201: S.OemCreated },
      },
    },
    handler(async (req: Req<unknown, S.OemCreateBody>, reply) =>
      reply.code(201).send(await oems.register(req.body, actorOf(req))),
    ),
  );

  app.get(
    '/oems/:oem',
    { schema: { summary: 'One OEM', params: S.OemParams, response: { 200: S.Oem } } },
    handler(async (req: Req<OemP>) => oems.show(req.params.oem)),
  );

  app.patch(
    '/oems/:oem',
    {
      schema: {
        summary: 'Change an API OEM (config OEMs are read-only); effective for the next delivery',
        params: S.OemParams,
        body: S.OemPatchBody,
        response: { 200: S.Oem },
      },
    },
    handler(async (req: Req<OemP, S.OemPatchBody>) => oems.update(req.params.oem, req.body, actorOf(req))),
  );

  app.post(
    '/oems/:oem/disable',
    {
      preValidation: optionalBody,
      schema: {
        summary: 'Disable an API OEM: nothing is sent to it, its pending deliveries wait',
        params: S.OemParams,
        body: S.NoBody,
        response: { 200: S.Oem },
      },
    },
    handler(async (req: Req<OemP>) => oems.setEnabled(req.params.oem, false, actorOf(req))),
  );

  app.post(
    '/oems/:oem/enable',
    {
      preValidation: optionalBody,
      schema: {
        summary: 'Enable an API OEM again: its waiting deliveries resume',
        params: S.OemParams,
        body: S.NoBody,
        response: { 200: S.Oem },
      },
    },
    handler(async (req: Req<OemP>) => oems.setEnabled(req.params.oem, true, actorOf(req))),
  );

  app.post(
    '/oems/:oem/policies',
    {
      schema: {
        summary:
          'Upload a policy version: validated, stored by hash, diffed against the active one; activated with activate: true',
        params: S.OemParams,
        body: S.PolicyUploadBody,
        response: { 201: S.PolicyUploaded, 200: S.PolicyUploaded },
      },
    },
    handler(async (req: Req<OemP, S.PolicyUploadBody>, reply) => {
      const r = await policies.upload(req.params.oem, req.body.text, { activate: req.body.activate }, actorOf(req));
      return reply.code(r.created ? 201 : 200).send(r);
    }),
  );

  app.get(
    '/oems/:oem/policies',
    {
      schema: {
        summary: 'Policy versions and the activation history (newest first)',
        params: S.OemParams,
        response: { 200: S.PolicyHistory },
      },
    },
    handler(async (req: Req<OemP>) => policies.history(req.params.oem)),
  );

  app.get(
    '/oems/:oem/policies/:hash',
    {
      schema: {
        summary: 'One stored policy version, with its text',
        params: S.PolicyParams,
        response: { 200: S.PolicyVersion },
      },
    },
    handler(async (req: Req<PolicyP>) => policies.show(req.params.oem, req.params.hash)),
  );

  app.get(
    '/oems/:oem/policies/:hash/diff',
    {
      schema: {
        summary: 'What activating this version would open or close, against the active one',
        params: S.PolicyParams,
        response: { 200: S.PolicyDiff },
      },
    },
    handler(async (req: Req<PolicyP>) => policies.diff(req.params.oem, req.params.hash)),
  );

  app.post(
    '/oems/:oem/policies/:hash/activate',
    {
      preValidation: optionalBody,
      schema: {
        summary: 'Activate a stored version, all or nothing (an older hash is a rollback)',
        params: S.PolicyParams,
        body: S.NoBody,
        response: { 200: S.Activation },
      },
    },
    handler(async (req: Req<PolicyP>) => policies.activate(req.params.oem, req.params.hash, actorOf(req))),
  );
}
