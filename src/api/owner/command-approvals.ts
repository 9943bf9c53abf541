/**
 * The owner's approvals of restricting downlink commands (immobilize, speed-limit,
 * disable-function, remote-shutdown, and types a policy marks restricting). Without an approval
 * in force for that type, OEM and vehicle, such a command is blocked (src/downlink). The vehicle's
 * OEM is its one OEM (VehicleRow.oem): an owner approves a type for that OEM only. Every grant
 * and revocation is a 'command' leaf (pseudonym, never the VIN). The `:vin` is checked against
 * the owner's binding before any handler runs (binding.ts): another vehicle is 404.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CommandApprovalRow, Store } from '../../store/index.js';
import type { PolicyEngine } from '../../policy/index.js';
import { badRequest, notFound } from '../../errors.js';
import { iso, isoOrNull } from '../../time.js';
import { isBuiltInRestricting, RESTRICTING_COMMANDS } from '../../policy/commands.js';

export interface CommandApprovalDeps {
  readonly store: Pick<Store, 'getVehicle' | 'approveCommand' | 'revokeCommandApproval' | 'listCommandApprovals'>;
  readonly now: () => number;
  /** The OEM's command policy (which types restrict the car) and the pseudonym the leaf names. */
  readonly policy: Pick<PolicyEngine, 'policyOf' | 'pseudonymFor'>;
  /** The vehicle's queued commands are checked again now: a withdrawn approval blocks them at once. */
  readonly recheckCommands?: (vin: string) => Promise<void>;
}

const strict = { additionalProperties: false } as const;
const Vin = Type.String({ pattern: '^[A-HJ-NPR-Z0-9]{17}$' });
const CommandType = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const Approval = Type.Object(
  {
    type: Type.String(),
    oem: Type.String(),
    approvedAt: Type.String({ format: 'date-time' }),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    inForce: Type.Boolean(),
  },
  strict,
);

/** Bound to the owner but not (or no longer) registered at the gateway. */
const unregistered = (vin: string) => notFound(`vehicle ${vin} is not registered at this gateway`);
const toApi = (a: CommandApprovalRow) => ({
  type: a.type,
  oem: a.oem,
  approvedAt: iso(a.approvedAt),
  revokedAt: isoOrNull(a.revokedAt),
  inForce: a.revokedAt === null,
});

export function registerCommandApprovals(app: FastifyInstance, deps: CommandApprovalDeps): void {
  const { store, now } = deps;
  /** Restricting types of the vehicle's OEM: the built-in ones and those its policy marks. */
  const restrictingTypes = (oem: string) => [
    ...new Set([
      ...RESTRICTING_COMMANDS,
      ...[...(deps.policy.policyOf(oem)?.commands.types.values() ?? [])]
        .filter((t) => t.restricting)
        .map((t) => t.type),
    ]),
  ];
  const leaf = (vin: string, oem: string, type: string, granted: boolean) => ({
    action: granted ? 'approval-granted' : 'approval-revoked',
    oem,
    pseudonym: deps.policy.pseudonymFor(oem, vin, now()) ?? null,
    type,
    outcome: granted ? 'granted' : 'revoked',
    reason: null,
  });

  app.get<{ Params: { vin: string } }>(
    '/vehicles/:vin/command-approvals',
    {
      schema: {
        summary: 'Your approvals of restricting commands for this vehicle (history kept), and the types that need one',
        params: Type.Object({ vin: Vin }, strict),
        response: {
          200: Type.Object(
            { oem: Type.String(), restrictingTypes: Type.Array(Type.String()), approvals: Type.Array(Approval) },
            strict,
          ),
        },
      },
    },
    async (req) => {
      const vehicle = await store.getVehicle(req.params.vin);
      if (!vehicle) throw unregistered(req.params.vin);
      return {
        oem: vehicle.oem,
        restrictingTypes: restrictingTypes(vehicle.oem),
        approvals: (await store.listCommandApprovals(req.params.vin)).map(toApi),
      };
    },
  );

  app.post<{ Params: { vin: string }; Body: { type: string } }>(
    '/vehicles/:vin/command-approvals',
    {
      schema: {
        summary: "Approve one restricting command type for this vehicle's OEM (until revoked)",
        params: Type.Object({ vin: Vin }, strict),
        body: Type.Object({ type: CommandType }, strict),
        response: { 201: Approval },
      },
    },
    async (req, reply) => {
      const vehicle = await store.getVehicle(req.params.vin);
      if (!vehicle) throw unregistered(req.params.vin);
      const { type } = req.body;
      if (!isBuiltInRestricting(type) && !restrictingTypes(vehicle.oem).includes(type)) {
        throw badRequest(
          'body.type',
          `"${type}" is not a restricting command of ${vehicle.oem}; it needs no approval (restricting: ${restrictingTypes(vehicle.oem).join(', ')})`,
        );
      }
      const t = now();
      const { row, created } = await store.approveCommand(
        { vin: vehicle.vin, oem: vehicle.oem, type, ownerId: req.owner!.id, now: t },
        leaf(vehicle.vin, vehicle.oem, type, true),
      );
      return reply.code(created ? 201 : 200).send(toApi(row));
    },
  );

  app.delete<{ Params: { vin: string; type: string } }>(
    '/vehicles/:vin/command-approvals/:type',
    {
      schema: {
        summary: 'Withdraw the approval of a restricting command type: such commands are blocked again from now on',
        params: Type.Object({ vin: Vin, type: CommandType }, strict),
        response: { 200: Type.Object({ type: Type.String(), oem: Type.String(), revoked: Type.Boolean() }, strict) },
      },
    },
    async (req) => {
      const vehicle = await store.getVehicle(req.params.vin);
      if (!vehicle) throw unregistered(req.params.vin);
      const { type } = req.params;
      const revoked = await store.revokeCommandApproval(
        { vin: vehicle.vin, oem: vehicle.oem, type, now: now() },
        leaf(vehicle.vin, vehicle.oem, type, false),
      );
      if (!revoked) throw notFound(`no approval of "${type}" in force for this vehicle`);
      await deps.recheckCommands?.(vehicle.vin);
      return { type, oem: vehicle.oem, revoked };
    },
  );
}
