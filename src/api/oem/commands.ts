/**
 * Guarded downlink commands over HTTP (src/downlink decides, records and sends). A pseudonym is
 * resolved to a car only among the requesting OEM's own vehicles: any other pseudonym — unknown,
 * or another OEM's car — is 404, and so is another OEM's command.
 *
 * Answers: 202 allowed (queued, or already sent when the car is online); 403 SHK_COMMAND_BLOCKED
 * (not in the command policy, parameters out of range, a restricting command the owner has not
 * approved); 429 SHK_RATE_LIMITED with Retry-After (the type's per-vehicle hourly limit). A
 * blocked command is recorded and logged like an allowed one; its id is in the answer.
 */
import type { FastifyInstance } from 'fastify';
import type { CommandRow } from '../../store/index.js';
import { notFound, ShekaraError } from '../../errors.js';
import { iso, isoOrNull } from '../../time.js';
import { oemOf, type OemDeps } from './deps.js';
import * as S from './schemas.js';

export function toApiCommand(c: CommandRow): Record<string, unknown> {
  return {
    id: c.id,
    vehicle: c.pseudonym,
    type: c.type,
    params: c.params,
    status: c.status,
    reason: c.reason,
    createdAt: iso(c.createdAt),
    expiresAt: iso(c.expiresAt),
    sentAt: isoOrNull(c.sentAt),
    acks: c.acks.map((a) => ({ status: a.status, detail: a.detail, at: iso(a.at) })),
  };
}

export function registerCommands(app: FastifyInstance, deps: Pick<OemDeps, 'downlink'>): void {
  const { downlink } = deps;

  app.post<{ Params: { pseudonym: string }; Body: S.CommandBody }>(
    '/vehicles/:pseudonym/commands',
    {
      schema: {
        summary:
          "Send a command to one of your vehicles (checked against your command policy and, if it restricts the car, the owner's approval)",
        params: S.PseudonymParams,
        body: S.CommandBody,
        response: { 202: S.Command, 403: S.CommandRefusal, 429: S.CommandRefusal },
      },
    },
    async (req, reply) => {
      const oem = oemOf(req);
      const vin = await downlink.resolveVehicle(oem, req.params.pseudonym);
      if (!vin) throw notFound(`no vehicle ${req.params.pseudonym} among your vehicles`);
      const { command, retryAfterMs } = await downlink.request({
        oem,
        vin,
        pseudonym: req.params.pseudonym,
        type: req.body.type,
        params: req.body.params ?? {},
        ...(req.body.ttlSeconds !== undefined ? { ttlSeconds: req.body.ttlSeconds } : {}),
        apiKey: req.apiKey!.id,
      });
      if (command.status !== 'blocked') return reply.code(202).send(toApiCommand(command));
      // The refusal names the recorded command: it is in the log like an allowed one.
      const answer = { command: toApiCommand(command) };
      if (retryAfterMs !== undefined) {
        throw new ShekaraError('SHK_RATE_LIMITED', command.reason ?? 'rate limited', {
          retriable: true,
          answer,
          headers: { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) },
        });
      }
      throw new ShekaraError('SHK_COMMAND_BLOCKED', command.reason ?? 'blocked', { answer });
    },
  );

  app.get<{ Params: { pseudonym: string; id: string } }>(
    '/vehicles/:pseudonym/commands/:id',
    {
      schema: {
        summary: "A command's status and the car's acknowledgements",
        params: S.CommandParams,
        response: { 200: S.Command },
      },
    },
    async (req) => {
      const oem = oemOf(req);
      const vin = await downlink.resolveVehicle(oem, req.params.pseudonym);
      const command = vin ? await downlink.get(req.params.id) : undefined;
      if (!command || command.oem !== oem || command.vin !== vin)
        throw notFound(`no command ${req.params.id} for vehicle ${req.params.pseudonym}`);
      return toApiCommand(command);
    },
  );
}
