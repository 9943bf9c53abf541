/** /admin/v1/oems: the OEM registry and each OEM's policies (docs/admin.md). */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { Admin } from '../../admin/index.js';
import * as S from './schemas.js';
import { actorOf, optionalBody } from './request.js';

type OemP = Static<typeof S.OemParams>;
type PolicyP = Static<typeof S.PolicyParams>;

export function registerOemRoutes(app: FastifyInstance, admin: Admin): void {
  const { oems, policies } = admin;

  app.get(
    '/oems',
    { schema: { summary: 'List the OEM registry (config and API OEMs)', response: { 200: S.OemList } } },
    async () => ({ oems: await oems.list() }),
  );

  app.post<{ Body: S.OemCreateBody }>(
    '/oems',
    {
      schema: {
        summary: 'Register an OEM; a generated signing key is returned once',
        body: S.OemCreateBody,
        response: { 201: S.OemCreated },
      },
    },
    async (req, reply) => reply.code(201).send(await oems.register(req.body, actorOf(req))),
  );

  app.get<{ Params: OemP }>(
    '/oems/:oem',
    { schema: { summary: 'One OEM', params: S.OemParams, response: { 200: S.Oem } } },
    async (req) => oems.show(req.params.oem),
  );

  app.patch<{ Params: OemP; Body: S.OemPatchBody }>(
    '/oems/:oem',
    {
      schema: {
        summary: 'Change an API OEM (config OEMs are read-only); effective for the next delivery',
        params: S.OemParams,
        body: S.OemPatchBody,
        response: { 200: S.Oem },
      },
    },
    async (req) => oems.update(req.params.oem, req.body, actorOf(req)),
  );

  app.post<{ Params: OemP }>(
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
    async (req) => oems.setEnabled(req.params.oem, false, actorOf(req)),
  );

  app.post<{ Params: OemP }>(
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
    async (req) => oems.setEnabled(req.params.oem, true, actorOf(req)),
  );

  app.post<{ Params: OemP; Body: S.PolicyUploadBody }>(
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
    async (req, reply) => {
      const r = await policies.upload(req.params.oem, req.body.text, { activate: req.body.activate }, actorOf(req));
      return reply.code(r.created ? 201 : 200).send(r);
    },
  );

  app.get<{ Params: OemP }>(
    '/oems/:oem/policies',
    {
      schema: {
        summary: 'Policy versions and the activation history (newest first)',
        params: S.OemParams,
        response: { 200: S.PolicyHistory },
      },
    },
    async (req) => policies.history(req.params.oem),
  );

  app.get<{ Params: PolicyP }>(
    '/oems/:oem/policies/:hash',
    {
      schema: {
        summary: 'One stored policy version, with its text',
        params: S.PolicyParams,
        response: { 200: S.PolicyVersion },
      },
    },
    async (req) => policies.show(req.params.oem, req.params.hash),
  );

  app.get<{ Params: PolicyP }>(
    '/oems/:oem/policies/:hash/diff',
    {
      schema: {
        summary: 'What activating this version would open or close, against the active one',
        params: S.PolicyParams,
        response: { 200: S.PolicyDiff },
      },
    },
    async (req) => policies.diff(req.params.oem, req.params.hash),
  );

  app.post<{ Params: PolicyP }>(
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
    async (req) => policies.activate(req.params.oem, req.params.hash, actorOf(req)),
  );
}
